# Copyright (c) mmsim contributors. All rights reserved.
"""The ADE20k configs: they load with ``custom_imports``, follow mmseg's
MAE reference value for value, build through mmseg's registry, load a
converted SIM checkpoint through ``init_cfg``, and (slow) train one
iteration of the ViT-B UperNet at 512 x 512 on CPU."""
import glob
import os.path as osp
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData

from ._mmseg_checkpoint import load_tool, resized_grid

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'mmsegmentation',
                      'ade20k')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))
VIT_B = osp.join(CONFIG_DIR,
                 'upernet_sim-vit-b-p16_8xb2-amp-160k_ade20k-512x512.py')
#: The protocol's reference: mmseg 1.2.2's MAE UperNet config.
REFERENCE = 'mmseg::mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py'


def plain(cfg):
    """A config node as plain dicts and lists, ``_scope_`` left out."""
    if isinstance(cfg, dict):
        return {k: plain(v) for k, v in cfg.items() if k != '_scope_'}
    if isinstance(cfg, (list, tuple)):
        return [plain(v) for v in cfg]
    return cfg


def build_segmentor(cfg):
    """The config's ``EncoderDecoder``, built and initialised (from the
    backbone's ``init_cfg``, which the callers clear or point at a file)."""
    from mmseg.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_there_are_configs():
    assert VIT_B in CONFIGS


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_loads_and_builds_through_mmseg(config, mmseg_scope):
    cfg = Config.fromfile(config)
    assert cfg.custom_imports == dict(
        imports=['mmsim'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmseg'
    backbone = cfg.model.backbone
    assert backbone.type == 'MAE'
    assert backbone.init_cfg.type == 'Pretrained'
    assert backbone.init_values == 1.0  # the pre-trained blocks unchanged
    assert backbone.final_norm is False  # SIM has none
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    assert cfg.randomness.diff_rank_seed is True
    cfg.model.backbone.init_cfg = None  # no checkpoint file here
    model = build_segmentor(cfg)
    assert type(model).__name__ == 'EncoderDecoder'
    assert type(model.backbone).__name__ == 'MAE'
    assert type(model.decode_head).__name__ == 'UPerHead'
    for layer in model.backbone.layers:
        assert not layer.attn.relative_position_bias_table.any()  # zero init
        assert torch.equal(layer.gamma_1, torch.ones_like(layer.gamma_1))


def test_vit_b_follows_the_mae_reference():
    """Every model, optimiser, schedule and batch value equals mmseg's MAE
    config; the differences are written down here."""
    ours, reference = Config.fromfile(VIT_B), get_config(REFERENCE)
    backbone = plain(ours.model.backbone)
    # ours: the converted SIM checkpoint, SIM's final_norm=False spelled out
    assert backbone.pop('init_cfg')['checkpoint'] == \
        'checkpoints/sim_vit-base-p16_mmseg.pth'
    assert backbone.pop('final_norm') is False
    assert backbone == plain(reference.model.backbone)
    for key in ('neck', 'decode_head', 'auxiliary_head', 'test_cfg',
                'data_preprocessor'):
        assert plain(ours.model[key]) == plain(reference.model[key]), key
    optim = plain(ours.optim_wrapper)
    # fp16: the reference's 0.x ``fp16=dict(loss_scale='dynamic')`` is
    # ignored by mmseg 1.x; ours is the AMP wrapper with that loss scale
    assert reference.fp16 == dict(loss_scale='dynamic')
    assert reference.optim_wrapper.type == 'OptimWrapper'
    assert (optim.pop('type'), optim.pop('loss_scale')) == \
        ('AmpOptimWrapper', 'dynamic')
    reference_optim = plain(reference.optim_wrapper)
    reference_optim.pop('type')
    reference_optim.pop('_delete_', None)
    optim.pop('_delete_', None)
    assert optim == reference_optim
    assert optim['optimizer'] == dict(
        type='AdamW', lr=1e-4, betas=[0.9, 0.999], weight_decay=0.05)
    assert optim['paramwise_cfg'] == dict(num_layers=12, layer_decay_rate=0.65)
    assert plain(ours.param_scheduler) == plain(reference.param_scheduler)
    assert ours.param_scheduler[0].end == 1500
    assert ours.param_scheduler[1].power == 1.0
    assert ours.train_cfg.max_iters == reference.train_cfg.max_iters == 160000
    assert ours.train_dataloader.batch_size * 8 == 16
    assert plain(ours.train_dataloader.dataset) == plain(
        reference.train_dataloader.dataset)
    assert plain(ours.val_dataloader.dataset) == plain(
        reference.val_dataloader.dataset)
    assert ours.model.backbone.drop_path_rate == 0.1
    assert ours.model.backbone.out_indices == [3, 5, 7, 11]
    assert ours.model.neck.rescales == [4, 2, 1, 0.5]


def test_vit_b_layer_decay_groups(mmseg_scope):
    cfg = Config.fromfile(VIT_B)
    cfg.model.backbone.init_cfg = None
    model = build_segmentor(cfg)
    cfg.optim_wrapper.type = 'OptimWrapper'  # AMP needs CUDA
    cfg.optim_wrapper.pop('loss_scale')
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = optim_wrapper.optimizer.param_groups
    lr = {name: g['lr'] for g in groups for name in g['param_names']}
    assert lr['decode_head.conv_seg.weight'] == pytest.approx(1e-4)
    assert lr['neck.upsample_4x.0.weight'] == pytest.approx(1e-4)
    assert lr['backbone.layers.11.attn.qkv.weight'] == \
        pytest.approx(1e-4 * 0.65)
    assert lr['backbone.layers.0.attn.qkv.weight'] == \
        pytest.approx(1e-4 * 0.65**12)
    for name in ('backbone.patch_embed.projection.weight',
                 'backbone.pos_embed', 'backbone.cls_token'):
        assert lr[name] == pytest.approx(1e-4 * 0.65**13), name
    assert len({round(v / 1e-4, 9) for v in lr.values()}) == 14
    assert sum(len(g['params']) for g in groups) == len(
        [p for p in model.parameters() if p.requires_grad])


def test_vit_b_loads_a_converted_sim_encoder(tmp_path, mmseg_scope, capsys):
    """A ViT-B SIM encoder through the CLI (checked against the shipped
    config) and the config's own ``init_cfg``: tensors equal, the 14 x 14
    position grid resized to 32 x 32, the cls row still zero."""
    from mmengine.registry import DefaultScope
    from mmselfsup.registry import MODELS as SELFSUP_MODELS

    with DefaultScope.overwrite_default_scope('mmselfsup'):
        encoder = SELFSUP_MODELS.build(dict(type='SIMViT', arch='b'))
    encoder.init_weights()
    src, dst = str(tmp_path / 'sim.pth'), str(tmp_path / 'mmseg.pth')
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in encoder.state_dict().items()
        }), src)
    assert load_tool().main([src, dst, '--config', VIT_B, '--quiet']) == 0
    assert 'mapped 148 tensors; dropped 0' in capsys.readouterr().out

    cfg = Config.fromfile(VIT_B)
    cfg.model.backbone.init_cfg.checkpoint = dst
    model = build_segmentor(cfg)
    loaded = model.backbone.state_dict()
    expected = encoder.state_dict()
    for key, tensor in expected.items():
        if key != 'pos_embed':
            assert torch.equal(loaded[key], tensor), key
    assert loaded['pos_embed'].shape == (1, 1 + 32 * 32, 768)
    torch.testing.assert_close(loaded['pos_embed'],
                               resized_grid(expected['pos_embed'], 32))
    assert not loaded['pos_embed'][0, 0].any()


def _training_batch(model, batch_size, size=512, num_classes=150):
    from mmseg.structures import SegDataSample
    generator = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(
            torch.randint(
                0,
                256, (3, size, size),
                generator=generator,
                dtype=torch.uint8))
        label = torch.randint(
            0, num_classes, (1, size, size), generator=generator)
        label[:, :32] = 255  # ignored pixels, as reduce_zero_label gives
        sample = SegDataSample(
            metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), training=True)


@pytest.mark.slow
def test_vit_b_upernet_trains_one_iteration_at_512(mmseg_scope):
    """One training iteration of the recipe's model on CPU: forward,
    backward and the AdamW step with layer decay, 2 images of 512 x 512
    (one GPU's share of the recipe's batch; batch 1 cannot train: the
    pool-scale-1 branch of UperNet's PPM normalises a 1 x 1 map, and
    BatchNorm needs more than one value per channel)."""
    torch.manual_seed(0)
    cfg = Config.fromfile(VIT_B)
    cfg.model.backbone.init_cfg = None
    model = build_segmentor(cfg)
    model.train()
    cfg.optim_wrapper.type = 'OptimWrapper'  # AMP needs CUDA
    cfg.optim_wrapper.pop('loss_scale')
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = _training_batch(model, 2)
    assert data['inputs'].shape == (2, 3, 512, 512)
    before = model.backbone.layers[0].attn.qkv.weight.detach().clone()

    start = time.perf_counter()
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    forward = time.perf_counter()
    optim_wrapper.backward(loss)
    backward = time.perf_counter()
    grads = {
        name: param.grad.clone()
        for name, param in model.named_parameters()
        if name in ('backbone.patch_embed.projection.weight',
                    'backbone.layers.11.attn.relative_position_bias_table',
                    'backbone.layers.11.gamma_2', 'neck.upsample_4x.0.weight',
                    'decode_head.fpn_bottleneck.conv.weight',
                    'auxiliary_head.conv_seg.weight')
    }
    optim_wrapper.step()
    optim_wrapper.zero_grad()
    end = time.perf_counter()
    print(f'\nViT-B UperNet 512 x 512, batch 2, CPU '
          f'{torch.get_num_threads()} threads: forward '
          f'{forward - start:.1f} s, backward {backward - forward:.1f} s, '
          f'AdamW step {end - backward:.1f} s, iteration {end - start:.1f} s')
    assert torch.isfinite(loss)
    assert set(losses) >= {'decode.loss_ce', 'aux.loss_ce'}
    assert len(grads) == 6
    for name, grad in grads.items():
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0, name
    after = model.backbone.layers[0].attn.qkv.weight
    assert not torch.equal(before, after)  # the step changed the weights
