# Copyright (c) mmsim contributors. All rights reserved.
import pytest
from mmengine.registry import DefaultScope, init_default_scope

import mmsim.det  # noqa: F401  (registers the mmdet components)


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: a test of a minute or more on 2 CPU cores '
        "(deselect with -m 'not slow')")


@pytest.fixture
def mmdet_scope():
    """Make mmdet the default registry scope for the test."""
    previous = DefaultScope.get_current_instance()
    init_default_scope('mmdet')
    yield
    if previous is not None:
        init_default_scope(previous.scope_name)
