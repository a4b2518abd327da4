# Copyright (c) mmsim contributors. All rights reserved.
"""Every pre-training config loads and its model builds."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmselfsup.registry import MODELS

from tests._shipped_configs import REPO, SHIPPED_CONFIGS

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
    # a preemption notice saves the iteration (docs/multi_gpu.md)
    assert cfg.default_hooks.preemption == dict(type='PreemptionHook')
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


TINY_VIT = osp.join(REPO, 'configs', '_base_', 'models', 'vit-tiny-p16.py')
COLOUR = osp.join(REPO, 'configs', 'sim', '_base_', 'sim_pipeline.py')
# The detection quick start's 4-block ViT at 128 px is its own (the lead's
# config; not one of the 6-block tiny ViT's users).
OWN_VIT = (
    'mask-rcnn_sim-vit-tiny-p16_simple-fpn_1xb4-lsj128-600i_shapes.py', )


def _text(path):
    with open(path) as f:
        return f.read()


@pytest.mark.parametrize(
    'path', SHIPPED_CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_tiny_vit_and_colour_views_have_one_definition(path):
    """The 192-wide ViT and the two views' colour augmentation are written
    only in their base files; every config that uses them inherits them."""
    text = _text(path)
    if path != TINY_VIT and osp.basename(path) not in OWN_VIT:
        assert 'embed_dims=192' not in text.replace(' ', '')
    if path != COLOUR:
        assert "ColorJitter'" not in text  # mmselfsup's or SIMColorJitter
    cfg = Config.fromfile(path)
    backbone = cfg.get('model', {}).get('backbone', {})
    arch = backbone.get('arch')
    if isinstance(arch, dict) and arch.get('embed_dims') == 192 and \
            osp.basename(path) not in OWN_VIT:
        assert arch == cfg.vit_tiny_arch
        assert backbone.img_size == cfg.vit_tiny_img_size
    pipeline = cfg.get('train_dataloader', {}).get('dataset',
                                                   {}).get('pipeline', [])
    for step in pipeline:
        views = step.get('view_pipelines') or step.get('transforms')
        if step.type in ('SIMTwoViewCrop', 'MultiView'):
            colour = [[t for t in view if t.type != 'RandomResizedCrop'][:4]
                      for view in views]
            assert colour[0][:3] == cfg.view_1_colour
            assert colour[1] == cfg.view_2_colour


def test_sim_configs_run_the_training_checks():
    for path in CONFIGS + [
            p for p in SHIPPED_CONFIGS if osp.basename(p).startswith('sim')
            and 'replay' in p and '_base_' not in p
    ]:
        cfg = Config.fromfile(path)
        assert cfg.model.type == 'SIM'
        assert cfg.default_hooks.training_checks.type == \
            'TrainingChecksHook', path


def test_every_shipped_training_config_saves_atomically():
    """Pre-training, classification and detection: each config that trains
    through a runner writes its checkpoints with AtomicCheckpointHook."""
    trained = 0
    for path in SHIPPED_CONFIGS:
        if '_base_' in path:
            continue
        cfg = Config.fromfile(path)
        if 'train_cfg' not in cfg:  # offline kNN / logreg protocols
            continue
        assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook', \
            path
        trained += 1
    assert trained >= 15
