# Copyright (c) mmsim contributors. All rights reserved.
import glob
import os.path as osp
import time

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import InstanceData

from mmsim.det import SIMLayerNorm2d, SIMSimpleFPN, SIMViTDet

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'benchmarks', 'mmdetection', 'coco')
VIT_B = osp.join(
    CONFIG_DIR, 'mask-rcnn_sim-vit-b-p16_simple-fpn_8xb8-amp-lsj-100e_coco.py')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))


def build_detector(config):
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None  # no checkpoint file in tests
    model = MODELS.build(cfg.model)
    model.init_weights()
    return cfg, model


def test_there_are_configs():
    assert len(CONFIGS) >= 3


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_loads(config):
    cfg = Config.fromfile(config)
    assert cfg.custom_imports == dict(
        imports=['mmsim.det'], allow_failed_imports=False)
    assert cfg.model.backbone.type == 'SIMViTDet'
    assert cfg.optim_wrapper.constructor == \
        'SIMViTLayerDecayOptimizerConstructor'
    milestones = cfg.param_scheduler[1].milestones
    fractions = [m / cfg.train_cfg.max_iters for m in milestones]
    assert fractions == pytest.approx([0.889, 0.963], abs=0.005)


def test_recipe_values():
    cfg = Config.fromfile(VIT_B)
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.1
    assert cfg.optim_wrapper.paramwise_cfg.decay_rate == 0.7
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.model.backbone.drop_path_rate == 0.1
    assert cfg.train_dataloader.batch_size * 8 == 64
    resize = cfg.train_dataloader.dataset.pipeline[3]
    assert resize.scale == (1024, 1024) and resize.ratio_range == (0.1, 2.0)
    # 100 epochs of 118k images at batch 64
    assert cfg.train_cfg.max_iters * 64 / 118000 == pytest.approx(100, 0.01)


def test_vit_b_detector_builds_through_mmdet(mmdet_scope):
    cfg, model = build_detector(VIT_B)
    assert isinstance(model.backbone, SIMViTDet)
    assert isinstance(model.neck, SIMSimpleFPN)
    assert model.rpn_head.num_convs == 2
    assert type(model.roi_head.bbox_head).__name__ == \
        'Shared4Conv1FCBBoxHead'
    for head in (model.roi_head.bbox_head, model.roi_head.mask_head):
        assert any(isinstance(m, SIMLayerNorm2d) for m in head.modules())
    cfg.optim_wrapper.type = 'OptimWrapper'  # AMP needs CUDA
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lrs = {g['lr'] for g in optim_wrapper.optimizer.param_groups}
    assert max(lrs) == pytest.approx(1e-4)
    assert min(lrs) == pytest.approx(1e-4 * 0.7**13)


def _available_gib():
    try:
        with open('/proc/meminfo') as f:
            info = dict(line.split(':', 1) for line in f)
        return int(info['MemAvailable'].split()[0]) / 2**20
    except (OSError, KeyError, ValueError):
        return float('inf')


def _sample(height, width):
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(height, width),
            ori_shape=(height, width),
            scale_factor=(1., 1.)))
    masks = torch.zeros(2, height, width, dtype=torch.uint8)
    masks[0, 100:500, 120:400] = 1
    masks[1, 500:700, 600:900] = 1
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[120., 100., 400., 500.], [600, 500, 900, 700]]),
        labels=torch.tensor([3, 17]),
        masks=BitmapMasks(masks.numpy(), height, width))
    return sample


@pytest.mark.slow
@pytest.mark.skipif(
    _available_gib() < 14,
    reason='ViT-B Mask R-CNN at 1024 needs about 12 GiB of free memory')
def test_vit_b_forward_backward_at_1024(mmdet_scope):
    """The recipe's detector, batch 1 at 1024 x 1024 on CPU: about 1.5
    minutes and 12 GiB on 2 cores."""
    torch.manual_seed(0)
    _, model = build_detector(VIT_B)
    model.train()
    image = torch.randint(0, 256, (3, 800, 1024), dtype=torch.uint8)
    data = model.data_preprocessor(
        dict(inputs=[image], data_samples=[_sample(800, 1024)]), training=True)
    assert data['inputs'].shape == (1, 3, 1024, 1024)  # LSJ canvas
    start = time.perf_counter()
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)  # sums the per-level lists
    loss.backward()
    seconds = time.perf_counter() - start
    print(f'\nViT-B Mask R-CNN forward + backward at 1024 (CPU, '
          f'{torch.get_num_threads()} threads): {seconds:.1f} s')
    assert torch.isfinite(loss)
    for name in ('backbone.patch_embed.projection.weight',
                 'backbone.layers.11.attn.rel_pos_h',
                 'neck.output_convs.0.ln.weight',
                 'roi_head.mask_head.convs.3.ln.weight'):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and torch.isfinite(grad).all(), name


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_test_time_token_grid_is_the_training_grid(config, tmp_path,
                                                   mmdet_scope):
    """A non-square test image reaches the backbone on the training canvas
    (the position embedding and relative position tables then see the grid
    they were trained on)."""
    import mmcv
    import numpy as np
    from mmengine.dataset import Compose, pseudo_collate
    cfg = Config.fromfile(config)
    (pad, ) = cfg.model.data_preprocessor.batch_augments
    canvas = tuple(pad.size)
    img_path = str(tmp_path / 'wide.jpg')
    mmcv.imwrite(
        np.full((canvas[0] * 2 // 3, canvas[1], 3), 90, np.uint8), img_path)
    pipeline = [
        t for t in cfg.test_dataloader.dataset.pipeline
        if t.type != 'LoadAnnotations'
    ]
    sample = Compose(pipeline)(
        dict(img_path=img_path, img_id=0, ori_shape=None))
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    inputs = preprocessor(pseudo_collate([sample]), training=False)['inputs']
    assert tuple(inputs.shape[-2:]) == canvas
    patch = cfg.model.backbone.patch_size
    grid = cfg.model.backbone.img_size // patch
    assert inputs.shape[-1] // patch == grid
    # the pad is the mean colour: ~0 after normalisation
    assert inputs[..., -1, :].abs().max() < 0.02
