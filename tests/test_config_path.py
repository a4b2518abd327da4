# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.config_path: shipped configs named from a config anywhere."""
import os.path as osp

import pytest
from mmengine.config import Config

import mmsim

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NAME = 'sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py'


def test_a_config_outside_the_checkout_inherits_a_shipped_one(tmp_path):
    """The `_base_` expression the guides use, from a folder that is not
    beside configs/: the shipped config and its own relative bases load."""
    assert mmsim.config_path(NAME) == osp.join(REPO, 'configs', NAME)
    own = tmp_path / 'elsewhere' / 'mine.py'
    own.parent.mkdir()
    own.write_text(f"_base_ = __import__('mmsim').config_path({NAME!r})\n"
                   'custom_hooks = []\n')
    cfg = Config.fromfile(str(own))
    shipped = Config.fromfile(osp.join(REPO, 'configs', NAME))
    assert cfg.custom_hooks == [] and shipped.custom_hooks
    assert cfg.model == shipped.model
    assert cfg.knn_pipeline == shipped.knn_pipeline  # from a relative base


def test_an_unknown_name_says_where_it_looked():
    with pytest.raises(FileNotFoundError, match='no shipped config') as info:
        mmsim.config_path('sim/nope.py')
    assert osp.join(REPO, 'configs') in str(info.value)
