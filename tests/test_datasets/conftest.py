# Copyright (c) mmsim contributors. All rights reserved.
"""Test data for the dataset tests: a tiny generated shapes set."""
import pytest

from mmsim.datasets import generate_shapes_dataset

# Small enough to write in well under a second.
TINY_SHAPES = dict(
    num_train=16,
    num_val=8,
    img_size=32,
    num_det_train=6,
    num_det_val=4,
    det_img_size=64,
    seed=0)


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory) -> str:
    """Folder of a tiny shapes dataset (:data:`TINY_SHAPES`), shared."""
    root = str(tmp_path_factory.mktemp('shapes'))
    generate_shapes_dataset(root, **TINY_SHAPES)
    return root
