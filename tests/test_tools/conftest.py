# Copyright (c) mmsim contributors. All rights reserved.
"""The generated shapes set of the tools' tests (a module may define its
own ``shapes_root`` of other sizes)."""
import pytest

from tests._shapes_data import shapes_folder


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    return shapes_folder(tmp_path_factory, num_train=16, num_val=8)
