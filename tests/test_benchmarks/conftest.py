# Copyright (c) mmsim contributors. All rights reserved.
"""Fixtures of the classification benchmark tests: a tiny shapes set and a
SIM checkpoint of the quick-start model."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmsim.datasets import generate_shapes_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICK_START = osp.join(REPO, 'configs', 'sim',
                       'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')
NUM_TRAIN, NUM_VAL = 16, 8


@pytest.fixture(scope='session')
def shapes_cls_root(tmp_path_factory) -> str:
    """A tiny shapes set: 16 train and 8 val images of 64 px, 8 classes."""
    root = str(tmp_path_factory.mktemp('shapes_cls'))
    generate_shapes_dataset(
        root,
        num_train=NUM_TRAIN,
        num_val=NUM_VAL,
        img_size=64,
        num_det_train=0,
        num_det_val=0,
        seed=0)
    return root


@pytest.fixture(scope='session')
def sim_checkpoint(tmp_path_factory):
    """(path, backbone state) of a freshly initialised SIM built from the
    quick-start config, saved as the runner saves checkpoints."""
    from mmselfsup.registry import MODELS
    cfg = Config.fromfile(QUICK_START)
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():  # away from any init a fresh ViT could reproduce
        for param in model.backbone.parameters():
            param.add_(0.5)
    path = str(tmp_path_factory.mktemp('sim_ckpt') / 'sim_tiny.pth')
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), path)
    backbone = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    return path, backbone


def point_to_shapes(cfg: Config, root: str, batch_size: int = 8) -> None:
    """Point the config's dataloaders at ``root``, small and single-process.
    """
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader is None:
            continue
        loader.batch_size = batch_size
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = root
        loader.dataset.classes = osp.join(root, 'meta', 'classes.txt')
