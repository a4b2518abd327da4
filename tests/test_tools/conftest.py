# Copyright (c) mmsim contributors. All rights reserved.
"""The generated shapes set of the tools' tests (a module may define its
own ``shapes_root`` of other sizes)."""
import pytest

from mmsim.datasets.shapes import generate_shapes_dataset


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('shapes')) + '/'
    generate_shapes_dataset(
        root, num_train=16, num_val=8, num_det_train=0, num_det_val=0)
    return root
