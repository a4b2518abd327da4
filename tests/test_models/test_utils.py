# Copyright (c) mmsim contributors. All rights reserved.
"""``mmsim.models.utils`` was split: its former names say where they went,
and every new home has the name."""
import importlib

import pytest

from mmsim.models.utils import MOVED
from tests._host import HOST_NAME


@pytest.mark.parametrize('name', sorted(MOVED))
def test_former_names_point_to_their_new_module(name):
    with pytest.raises(ImportError, match=f'from {MOVED[name]}$'):
        exec(f'from mmsim.models.utils import {name}', {})
    mmcls_bound = MOVED[name] == 'mmsim.layers.fused_attention'
    if mmcls_bound and HOST_NAME != 'mmselfsup':
        pytest.skip('mmcls-bound module (mmselfsup host only)')
    assert hasattr(importlib.import_module(MOVED[name]), name)
