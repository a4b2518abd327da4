# Copyright (c) mmsim contributors. All rights reserved.
"""Every pre-training config loads and its model builds."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmselfsup.registry import MODELS

ROOT = osp.join(osp.dirname(__file__), '..', 'configs', 'sim')
CONFIGS = sorted(glob.glob(osp.join(ROOT, '*.py')))


def test_there_are_configs():
    assert len(CONFIGS) >= 5


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports['imports'] == ['mmsim']
    assert 'type' not in cfg.train_cfg  # see README: mmselfsup loop lookup
    assert cfg.model.type == 'SIM'
    pipeline = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert pipeline[1:] == [
        'SIMTwoViewCrop', 'SIMBlockMaskGenerator', 'PackSelfSupInputs'
    ]
    if 'large' in path:
        return  # ViT-L takes long to build on CPU; its args match ViT-B's
    init_default_scope('mmselfsup')
    model = MODELS.build(cfg.model)
    grid = model.backbone.grid_size
    assert model.neck.grid_size == grid
    mask_cfg = cfg.train_dataloader.dataset.pipeline[2]
    assert mask_cfg['input_size'] == grid
    assert mask_cfg['num_masking_patches'] < grid * grid
