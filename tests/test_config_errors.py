# Copyright (c) mmsim contributors. All rights reserved.
"""Impossible settings in the quick-start config stop at build time (the
registry builds of ``mim train``) or before the first iteration, with the
key, the value and what was expected."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from mmselfsup.registry import MODELS, TRANSFORMS

from tests._shapes_data import shapes_folder

CONFIG = osp.join(
    osp.dirname(__file__), '..', 'configs', 'sim',
    'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')


def model_cfg(**overrides) -> dict:
    """The quick start's model (one block), with nested overrides."""
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.arch.num_layers = 1
    cfg.merge_from_dict({f'model.{k}': v for k, v in overrides.items()})
    return cfg.model


# Before: the first iteration's forward stopped with "RuntimeError: shape
# '[..., 3, 5, 38]' is invalid for input of size ..." (backbone heads);
# the neck's "embed_dims=192 is not divisible by num_heads=5" named no part.
@pytest.mark.parametrize(
    'overrides,message',
    [
        ({
            'backbone.arch.num_heads': 5
        }, 'SIMViT arch: embed_dims=192 is not divisible by num_heads=5'),
        ({
            'neck.num_heads': 5
        }, 'SIMNeck embed_dims=192 is not divisible by num_heads=5'),
        ({
            'neck.in_channels': 256
        }, 'neck.in_channels=256 does not match the backbone width 192'),
        ({
            'neck.embed_dims': 190
        }, 'SIMNeck embed_dims must be a positive '
         'multiple of 4 (sin-cos embeddings), got 190'),
        ({
            'backbone.img_size': 100
        }, 'img_size=100 must be a positive multiple of patch_size=16'),
        ({
            'neck.grid_size': 7
        }, 'neck.grid_size=7 does not match the backbone patch grid 6'),
        # Before: these three built and trained without a word (a zero-width
        # FFN, predictions from the queries alone, a loss rewarding collapse).
        ({
            'neck.mlp_ratio': 0
        }, 'SIMNeck mlp_ratio is the FFN width over '
         'embed_dims (e.g. 4), got 0'),
        ({
            'neck.num_predictor_layers': 0
        }, 'SIMNeck needs num_projector_layers '
         '>= 0 and num_predictor_layers >= 1'),
        ({
            'head.neg_weight': -0.02
        }, 'UniGradHead neg_weight is the weight '
         'lambda of the negative'),
    ],
    ids=[
        'backbone-heads', 'neck-heads', 'neck-in-channels', 'neck-width-4',
        'img-size-patch', 'neck-grid', 'neck-mlp-ratio', 'neck-predictor',
        'head-neg-weight'
    ])
def test_model_settings_are_refused_when_built(overrides, message):
    with pytest.raises(ValueError) as info:
        MODELS.build(model_cfg(**overrides))
    assert message in str(info.value)


# Before: a ratio stopped the first batch, inside a dataloader worker, with
# "TypeError: can't multiply sequence by non-int of type 'float'".
@pytest.mark.parametrize(
    'num_masked,message', [
        (36, 'num_masking_patches must be in (0, G_h * G_w) = (0, 36) for the '
         '6 x 6 grid, got 36'),
        (40, 'got 40'),
        (0.6, 'num_masking_patches is K, the number of masked patches per '
         'sample (an int), got 0.6; for a mask ratio r of the 6 x 6 grid set '
         'round(r * 36)'),
    ],
    ids=['k-all', 'k-more', 'k-ratio'])
def test_mask_settings_are_refused_when_built(num_masked, message):
    mask_cfg = dict(Config.fromfile(CONFIG).train_pipeline[2])
    assert mask_cfg['type'] == 'SIMBlockMaskGenerator'
    mask_cfg['num_masking_patches'] = num_masked
    with pytest.raises(ValueError) as info:
        TRANSFORMS.build(mask_cfg)
    assert message in str(info.value)


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    return shapes_folder(
        tmp_path_factory, 'config_errors', num_train=8, num_val=2)


# Before: the first iteration stopped with "SIMViT was built for (96, 96)
# inputs, got images of (64, 64)" (crop), "mask has 196 cells per sample
# but there are 36 patch tokens" (mask) and "SIMViT was built for (128,
# 128) inputs, got images of (96, 96)" (backbone).
@pytest.mark.parametrize(
    'overrides,message', [
        ({
            'train_dataloader.dataset.pipeline.1.size': 64
        },
         "the training pipeline's SIMTwoViewCrop size=64 makes 64 x 64 views, "
         'but model.backbone.img_size=96: set them equal'),
        ({
            'train_dataloader.dataset.pipeline.2.input_size': 14,
            'train_dataloader.dataset.pipeline.2.num_masking_patches': 118
        }, "the training pipeline's SIMBlockMaskGenerator input_size=(14, 14) "
         'masks a 14 x 14 grid, but the backbone has a 6 x 6 patch grid '
         '(model.backbone.img_size=96 / patch_size=16): set input_size=6'),
        ({
            'model.backbone.img_size': 128,
            'model.neck.grid_size': 8
        },
         "the training pipeline's SIMTwoViewCrop size=96 makes 96 x 96 views, "
         'but model.backbone.img_size=128'),
    ],
    ids=['crop-size', 'mask-grid', 'backbone-img-size'])
def test_views_that_do_not_fit_the_backbone_stop_before_training(
        shapes_root, tmp_path, overrides, message):
    """Through the plain Runner (``mim train``): the quick start's
    TrainingChecksHook compares the built pipeline with the model."""
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': shapes_root,
        'train_dataloader.dataset.classes': None,
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'model.backbone.arch.num_layers': 1,
        'custom_hooks': [],
        **overrides
    })
    cfg.work_dir = str(tmp_path)
    with pytest.raises(ValueError) as info:
        Runner.from_cfg(cfg).train()
    assert message in str(info.value)
    assert any(entry.name == 'before_train' for entry in info.traceback)
