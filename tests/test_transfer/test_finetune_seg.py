# Copyright (c) mmsim contributors. All rights reserved.
"""The fine-tune driver's segmentation task (the CPU twin): its config on
the generated label maps, adapted by ``build_finetune_config`` and run by
``run_finetune`` through mmseg's real runner and ``IoUMetric``, at a tiny
size."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmsim.datasets import SHAPE_CLASSES
from mmsim.transfer import (build_finetune_config, load_state_dict,
                            num_heads_from_meta, run_finetune)
from mmsim.transfer.mmseg import (METRIC_KEYS, backbone_settings,
                                  convert_sim_to_mmseg, spread_out_indices)
from .._shipped_configs import TRANSFER_CONFIGS
from ..test_det._sim_checkpoint import save_sim_checkpoint
from ..test_seg._mmseg_checkpoint import resized_grid

TINY_CONFIG = TRANSFER_CONFIGS['seg']
TINY_SIM = dict(embed_dims=64, num_layers=4, num_heads=2, img_size=96)


@pytest.fixture(scope='module')
def tiny_sim(tmp_path_factory):
    """A small SIM checkpoint (64 wide, 4 blocks of 2 heads, 96 px) and
    its model."""
    path = str(tmp_path_factory.mktemp('sim') / 'sim.pth')
    return path, save_sim_checkpoint(path, **TINY_SIM)


def check_metrics(metrics):
    """mmseg's ``IoUMetric`` results: every table metric, a percentage."""
    for key in METRIC_KEYS:
        assert key in metrics, sorted(metrics)
        assert 0. <= metrics[key] <= 100. and math.isfinite(metrics[key])


def test_tiny_config_builds_through_mmseg(mmseg_scope):
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS

    cfg = Config.fromfile(TINY_CONFIG)
    assert cfg.classes == ('background', ) + SHAPE_CLASSES
    assert cfg.default_scope == 'mmseg'
    backbone = cfg.model.backbone
    arch = cfg.vit_tiny_arch  # the quick start's SIM encoder
    assert (backbone.embed_dims, backbone.num_layers, backbone.num_heads,
            backbone.mlp_ratio * backbone.embed_dims) == \
        (arch.embed_dims, arch.num_layers, arch.num_heads,
         arch.feedforward_channels)
    assert backbone.img_size == (128, 128) and backbone.patch_size == 16
    assert backbone.out_indices == spread_out_indices(6) == [1, 2, 3, 5]
    assert cfg.model.test_cfg == dict(mode='whole')
    assert cfg.train_dataloader.dataset.reduce_zero_label is False
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert type(model.decode_head).__name__ == 'UPerHead'
    assert model.decode_head.channels == 64
    assert model.decode_head.num_classes == len(cfg.classes) == 9
    assert model.auxiliary_head.num_classes == 9

    groups = build_optim_wrapper(model,
                                 cfg.optim_wrapper).optimizer.param_groups
    lr = {name: g['lr'] for g in groups for name in g['param_names']}
    assert lr['decode_head.conv_seg.weight'] == pytest.approx(2e-3)
    assert lr['backbone.layers.5.attn.qkv.weight'] == \
        pytest.approx(2e-3 * 0.65)
    assert lr['backbone.pos_embed'] == pytest.approx(2e-3 * 0.65**7)


def test_dataset_pairs_each_image_with_its_label_map(shapes_det_root, tmp_path,
                                                     mmseg_scope):
    from mmseg.registry import DATASETS

    cfg = build_finetune_config('seg', TINY_CONFIG, shapes_det_root,
                                str(tmp_path))
    for split, loader in (('train', cfg.train_dataloader),
                          ('val', cfg.test_dataloader)):
        dataset = DATASETS.build(loader.dataset)
        images = glob.glob(osp.join(shapes_det_root, split, '*.jpg'))
        assert len(dataset) == len(images) > 0
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            stem = osp.splitext(osp.basename(info['img_path']))[0]
            assert info['seg_map_path'] == osp.join(shapes_det_root, 'labels',
                                                    split, stem + '.png')
        sample = dataset[0]['data_samples']
        labels = sample.gt_sem_seg.data.unique().tolist()
        assert set(labels) <= set(range(9)) and 0 in labels
        assert max(sample.img_shape) <= 128


def test_backbone_settings_from_a_checkpoint(tiny_sim):
    path, _ = tiny_sim
    conversion = convert_sim_to_mmseg(load_state_dict(path))
    assert num_heads_from_meta(path) == 2
    assert backbone_settings(conversion, 2) == dict(
        embed_dims=64, num_layers=4, num_heads=2, mlp_ratio=4, patch_size=16)
    assert spread_out_indices(4) == [0, 1, 2, 3]
    assert spread_out_indices(12) == [2, 5, 8, 11]
    with pytest.raises(ValueError, match='3 blocks'):
        spread_out_indices(3)


def test_config_follows_the_checkpoint(tiny_sim, tmp_path):
    path, _ = tiny_sim
    backbone = backbone_settings(
        convert_sim_to_mmseg(load_state_dict(path)), 2)
    cfg = build_finetune_config(
        'seg',
        TINY_CONFIG,
        'data',
        str(tmp_path),
        'backbone.pth',
        backbone,
        max_iters=50)
    assert cfg.model.backbone.out_indices == [0, 1, 2, 3]
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='backbone.pth')
    assert cfg.model.neck.embed_dim == 64
    assert cfg.model.decode_head.in_channels == [64] * 4
    assert cfg.model.auxiliary_head.in_channels == 64
    assert cfg.optim_wrapper.paramwise_cfg.num_layers == 4
    warmup, decay = cfg.param_scheduler
    assert (warmup.end, decay.begin, decay.end) == (5, 5, 50)
    assert cfg.val_cfg is None and cfg.val_evaluator is None
    assert cfg.train_dataloader.dataset.data_root == 'data'


def test_the_runner_loads_the_converted_encoder(tiny_sim, shapes_det_root,
                                                tmp_path):
    """The config the tool writes, built by mmseg's runner and initialised
    as ``runner.train()`` does: every encoder tensor exactly, the 6 x 6
    position grid resized to 8 x 8, the transfer-only tensors at their
    init; without a checkpoint, mmseg's MAE init."""
    from mmengine.runner import Runner

    from mmsim.transfer import save_checkpoint
    path, sim = tiny_sim
    conversion = convert_sim_to_mmseg(load_state_dict(path))
    converted = str(tmp_path / 'backbone.pth')
    save_checkpoint(conversion.state_dict, converted)
    backbone = backbone_settings(conversion, 2)
    encoder = sim.backbone.state_dict()

    cfg = build_finetune_config('seg', TINY_CONFIG, shapes_det_root,
                                str(tmp_path / 'sim'), converted, backbone)
    model = Runner.from_cfg(cfg).model
    model.init_weights()
    loaded = model.backbone.state_dict()
    for key, tensor in encoder.items():
        if key != 'pos_embed':
            assert torch.equal(loaded[key], tensor), key
    torch.testing.assert_close(loaded['pos_embed'],
                               resized_grid(encoder['pos_embed'], 8))
    for layer in model.backbone.layers:
        assert not layer.attn.relative_position_bias_table.any()
        assert torch.equal(layer.gamma_1, torch.ones_like(layer.gamma_1))

    cfg = build_finetune_config('seg', TINY_CONFIG, shapes_det_root,
                                str(tmp_path / 'random'), None, backbone)
    model = Runner.from_cfg(cfg).model
    model.init_weights()
    loaded = model.backbone.state_dict()
    assert loaded['layers.0.attn.qkv.weight'].shape == (192, 64)
    assert not torch.equal(loaded['layers.0.attn.qkv.weight'],
                           encoder['layers.0.attn.qkv.weight'])
    assert not loaded['pos_embed'].any()  # MAE's own init: zeros, learnt


def test_smoke_finetune_from_sim_checkpoint(tiny_sim, shapes_det_root,
                                            tmp_path, capsys, one_thread):
    path, sim = tiny_sim
    metrics = run_finetune(
        'seg',
        TINY_CONFIG,
        shapes_det_root,
        str(tmp_path / 'work'),
        sim_checkpoint=path,
        max_iters=2)
    check_metrics(metrics)
    assert 'mapped' in capsys.readouterr().out
    converted = torch.load(str(tmp_path / 'work' /
                               'sim_mmseg_backbone.pth'))['state_dict']
    assert torch.equal(converted['layers.1.attn.qkv.weight'],
                       sim.backbone.layers[1].attn.qkv.weight)
    (dumped, ) = glob.glob(str(tmp_path / 'work' / '*.py'))
    backbone = Config.fromfile(dumped).model.backbone
    assert backbone.init_cfg.checkpoint.endswith('sim_mmseg_backbone.pth')
    assert (backbone.embed_dims, backbone.num_layers) == (64, 4)
