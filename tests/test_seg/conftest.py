# Copyright (c) mmsim contributors. All rights reserved.
import pytest
from mmengine.registry import DefaultScope


@pytest.fixture
def mmseg_scope():
    """Make mmseg the default registry scope for the test."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield
