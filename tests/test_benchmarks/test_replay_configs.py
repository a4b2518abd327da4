# Copyright (c) mmsim contributors. All rights reserved.
"""The replay benchmark's five pre-training configs load, share everything
but the method, and build through the registries with identical encoders."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmselfsup.registry import MODELS

from .conftest import QUICK_START, REPO

REPLAY = osp.join(REPO, 'benchmarks', 'replay', 'configs')
# config name -> (algorithm, backbone)
METHODS = {
    'sim-release_vit-tiny-p16_shapes.py': ('SIM', 'SIMViT'),
    'sim-paper_vit-tiny-p16_shapes.py': ('SIM', 'SIMViT'),
    'sim-global_vit-tiny-p16_shapes.py': ('SIM', 'SIMViT'),
    'mae_vit-tiny-p16_shapes.py': ('MAE', 'MAEViT'),
    'mocov3_vit-tiny-p16_shapes.py': ('MoCoV3', 'MoCoV3ViT'),
}
SHARED = ('optim_wrapper', 'param_scheduler', 'train_cfg', 'default_hooks',
          'custom_hooks', 'env_cfg', 'randomness')


def load(name: str) -> Config:
    return Config.fromfile(osp.join(REPLAY, name))


@pytest.mark.parametrize('name', sorted(METHODS))
def test_replay_config_loads_and_builds(name):
    cfg = load(name)
    assert cfg.custom_imports['imports'] == ['mmsim']
    assert 'type' not in cfg.train_cfg  # mmselfsup 1.0.0 loop lookup
    assert cfg.train_cfg.max_epochs == 8
    assert cfg.get('val_cfg') is None and cfg.get('test_cfg') is None
    loader = cfg.train_dataloader
    assert loader.batch_size == 32 and loader.drop_last
    assert loader.dataset.data_root == 'data/replay_shapes/'
    assert [h.type for h in cfg.custom_hooks] == ['KNNMonitorHook']
    for split in ('train', 'val'):
        knn = cfg.custom_hooks[0][f'{split}_dataloader'].dataset
        assert knn.data_root == loader.dataset.data_root
        assert knn.ann_file == f'meta/{split}.txt'
    # the shared part is the same in all five
    reference = load('sim-release_vit-tiny-p16_shapes.py')
    for key in SHARED:
        assert cfg[key] == reference[key], key

    algorithm, backbone_type = METHODS[name]
    assert cfg.model.type == algorithm
    preprocessor = cfg.model.data_preprocessor
    assert list(preprocessor.mean) == [123.675, 116.28, 103.53]
    assert list(preprocessor.std) == [58.395, 57.12, 57.375]
    assert preprocessor.bgr_to_rgb
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        model = MODELS.build(cfg.model)
    backbone = model.backbone
    assert type(backbone).__name__ == backbone_type
    assert backbone.embed_dims == 192 and len(backbone.layers) == 6
    assert backbone.layers[0].attn.num_heads == 3
    assert backbone.layers[0].ffn.feedforward_channels == 768
    assert backbone.patch_resolution == (6, 6)  # 96 px, patch 16


def test_sim_release_is_the_quick_start_method():
    cfg = load('sim-release_vit-tiny-p16_shapes.py')
    quick = Config.fromfile(QUICK_START)
    assert cfg.model == quick.model
    assert cfg.train_dataloader.dataset.pipeline == \
        quick.train_dataloader.dataset.pipeline
    assert (cfg.model.head.alpha_global, cfg.model.head.alpha_dense) == \
        (0., 1.)


def test_sim_paper_differs_only_in_the_head():
    release = load('sim-release_vit-tiny-p16_shapes.py')
    paper = load('sim-paper_vit-tiny-p16_shapes.py')
    assert (paper.model.head.alpha_global, paper.model.head.alpha_dense) == \
        (1., 4.)
    paper.model.head.update(alpha_global=0., alpha_dense=1.)
    assert paper.to_dict() == release.to_dict()


def test_sim_global_is_the_paper_form_without_its_dense_term():
    paper = load('sim-paper_vit-tiny-p16_shapes.py')
    global_only = load('sim-global_vit-tiny-p16_shapes.py')
    assert (global_only.model.head.alpha_global,
            global_only.model.head.alpha_dense) == (1., 0.)
    global_only.model.head.alpha_dense = 4.
    assert global_only.to_dict() == paper.to_dict()
