# Copyright (c) mmsim contributors. All rights reserved.
import os.path as osp

import pytest
import torch

from mmsim.converters import (CheckpointConversionError,
                              convert_release_to_sim,
                              convert_release_to_vitdet, convert_sim_to_vitdet,
                              load_state_dict, save_checkpoint)
from mmsim.det import SIMViTDet
from mmsim.det.layers import resize_pos_embed_grid
from ..test_det._release_checkpoint import fake_release_state, release_shapes
from ..test_det._sim_checkpoint import (build_sim, save_sim_checkpoint,
                                        tiny_sim_model_cfg)

WIDTH, DEPTH, HEADS = 64, 2, 2


def det_backbone(checkpoint=None, pretrain_img_size=224):
    init_cfg = None if checkpoint is None else dict(
        type='Pretrained', checkpoint=checkpoint)
    model = SIMViTDet(
        arch=dict(
            embed_dims=WIDTH,
            num_layers=DEPTH,
            num_heads=HEADS,
            feedforward_channels=4 * WIDTH),
        img_size=128,
        pretrain_img_size=pretrain_img_size,
        window_size=4,
        global_attn_indexes=(1, ),
        init_cfg=init_cfg)
    model.init_weights()
    return model


def test_sim_checkpoint_loads_into_backbone_tensor_by_tensor(tmp_path):
    src = str(tmp_path / 'sim.pth')
    sim = save_sim_checkpoint(
        src, embed_dims=WIDTH, num_layers=DEPTH, num_heads=HEADS)
    conversion = convert_sim_to_vitdet(load_state_dict(src))
    assert all(not k.startswith(('target.', 'neck.', 'cls_token'))
               for k in conversion.state_dict)
    dst = str(tmp_path / 'backbone.pth')
    save_checkpoint(conversion.state_dict, dst)

    backbone = det_backbone(dst)
    det_state = backbone.state_dict()
    encoder = sim.backbone.state_dict()
    loaded = [
        k for k in det_state if not k.endswith(('rel_pos_h', 'rel_pos_w'))
    ]
    assert set(loaded) == set(encoder) - {'cls_token'}
    for key in loaded:
        assert torch.equal(det_state[key], encoder[key]), key
        # the online encoder, not the momentum target (+0.01 apart)
        target = sim.target.module['backbone'].state_dict()[key]
        if key != 'pos_embed':
            assert not torch.equal(det_state[key], target), key
    for key in det_state:
        if key.endswith(('rel_pos_h', 'rel_pos_w')):
            assert not det_state[key].any(), key  # zero-init
    # the position embedding at a 1024 / 16 = 64 x 64 input grid
    grid = backbone.pos_embed_at((64, 64))
    expected = resize_pos_embed_grid(encoder['pos_embed'][:, 1:], (64, 64))
    torch.testing.assert_close(grid, expected)


def test_sim_checkpoint_with_another_grid(tmp_path):
    src = str(tmp_path / 'sim96.pth')
    sim = save_sim_checkpoint(
        src, embed_dims=WIDTH, num_layers=DEPTH, num_heads=HEADS, img_size=96)
    dst = str(tmp_path / 'backbone.pth')
    save_checkpoint(
        convert_sim_to_vitdet(load_state_dict(src)).state_dict, dst)
    backbone = det_backbone(dst)  # stores a 14 x 14 grid
    pos = sim.backbone.pos_embed
    torch.testing.assert_close(
        backbone.pos_embed[:, 1:],
        resize_pos_embed_grid(pos[:, 1:], (14, 14)).flatten(1, 2))
    # or keep the checkpoint's 6 x 6 grid exactly
    backbone = det_backbone(dst, pretrain_img_size=96)
    assert torch.equal(backbone.pos_embed, pos)


def test_sim_conversion_errors():
    state = build_sim(
        tiny_sim_model_cfg(
            embed_dims=WIDTH, num_layers=DEPTH, num_heads=HEADS)).state_dict()
    del state['backbone.layers.1.attn.proj.bias']
    state['backbone.ln1.weight'] = torch.ones(WIDTH)  # a final norm
    state['momentum'] = torch.zeros(1)
    with pytest.raises(CheckpointConversionError) as error:
        convert_sim_to_vitdet(state)
    message = str(error.value)
    assert 'missing keys (1): backbone.layers.1.attn.proj.bias' in message
    assert 'backbone.ln1.weight' in message and 'momentum' in message


def test_fake_release_has_the_spec_layout():
    assert len(release_shapes()) == 450  # spec §6, ViT-B/16 release
    shapes = release_shapes()
    assert shapes['decoder_pos_mlp.weight'] == (768, 1536)
    assert shapes['pos_embed'] == (1, 197, 768)


def release_kwargs(**kwargs):
    cfg = dict(
        depth=DEPTH, width=WIDTH, proj_depth=2, pred_depth=2, dec_width=32)
    cfg.update(kwargs)
    return cfg


def test_release_to_vitdet(tmp_path):
    release = fake_release_state(**release_kwargs())
    conversion = convert_release_to_vitdet(release)
    assert len(conversion.state_dict) == 3 + 12 * DEPTH
    pairs = dict(conversion.mapped)
    assert pairs['blocks.1.mlp.fc1.weight'] == 'layers.1.ffn.layers.0.0.weight'
    assert pairs['blocks.0.norm2.bias'] == 'layers.0.ln2.bias'
    assert pairs['patch_embed.proj.weight'] == 'patch_embed.projection.weight'
    assert 'mm_blocks.0.attn.qkv.weight' in conversion.dropped
    assert 'cls_token' in conversion.dropped

    backbone = det_backbone()
    result = backbone.load_state_dict(conversion.state_dict, strict=False)
    assert not result.unexpected_keys
    assert all(
        k.endswith(('rel_pos_h', 'rel_pos_w')) for k in result.missing_keys)
    state = backbone.state_dict()
    for src, dst in conversion.mapped:
        assert torch.equal(state[dst], release[src]), (src, dst)


@pytest.mark.parametrize('norm', ['bn', 'ln'])
def test_release_to_sim_loads_strictly(norm):
    release = fake_release_state(**release_kwargs(norm=norm))
    conversion = convert_release_to_sim(release)
    sim = build_sim(
        tiny_sim_model_cfg(
            embed_dims=WIDTH,
            num_layers=DEPTH,
            num_heads=HEADS,
            neck_dims=32,
            norm='SIMTokenBN' if norm == 'bn' else 'LN'))
    sim.load_state_dict(conversion.state_dict, strict=True)
    state = sim.state_dict()
    for src, dst in conversion.mapped:
        if src == '(set)':
            continue
        assert torch.equal(state[dst], release[src]), (src, dst)
    pairs = dict(conversion.mapped)
    assert pairs['mm_blocks.1.attn.qkv.weight'] == \
        'target.module.backbone.layers.1.attn.qkv.weight'
    assert pairs['mm_projector_decoder_blocks.1.mlp.fc2.bias'] == \
        'target.module.projector.blocks.1.ffn.layers.1.bias'
    assert pairs['decoder_pos_mlp.weight'] == 'neck.predictor.pos_mlp.weight'
    assert pairs['mask_token'] == 'neck.predictor.mask_token'
    assert sorted(conversion.dropped) == ['decoder_pos_embed', 'mm_mask_token']
    # the target is kept, not overwritten by the first momentum update
    assert int(state['target.steps']) == 1
    online = [p.clone() for p in sim.backbone.parameters()]
    sim.target.update_parameters(sim._online_target_modules(), 0.5)
    qkv = sim.target.module['backbone'].layers[0].attn.qkv.weight
    expected = .5 * release['mm_blocks.0.attn.qkv.weight'] + \
        .5 * release['blocks.0.attn.qkv.weight']
    torch.testing.assert_close(qkv, expected)
    assert all(
        torch.equal(a, b) for a, b in zip(online, sim.backbone.parameters()))


@pytest.mark.parametrize('convert',
                         [convert_release_to_vitdet, convert_release_to_sim])
def test_release_missing_and_unexpected_keys(convert):
    release = fake_release_state(**release_kwargs())
    del release['blocks.1.attn.qkv.weight']
    with pytest.raises(
            CheckpointConversionError,
            match=r'missing keys \(1\): blocks.1.attn.qkv.weight'):
        convert(release)
    release = fake_release_state(**release_kwargs())
    release['norm.weight'] = torch.ones(WIDTH)
    with pytest.raises(
            CheckpointConversionError,
            match=r'unexpected keys \(1\): norm.weight'):
        convert(release)


def test_release_to_sim_target_depth_mismatch():
    release = fake_release_state(**release_kwargs())
    for key in [k for k in release if k.startswith('mm_blocks.1.')]:
        del release[key]
    with pytest.raises(CheckpointConversionError, match='mm_blocks.1.'):
        convert_release_to_sim(release)


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = str(tmp_path / 'out.pth')

    def broken_save(obj, f, *args, **kwargs):
        with open(f, 'wb') as handle:
            handle.write(b'partial')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        save_checkpoint({'a': torch.zeros(1)}, path)
    assert not osp.exists(path)
    assert list(tmp_path.iterdir()) == []


SIM_TINY_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'sim', 'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')


@pytest.mark.skipif(
    not osp.exists(SIM_TINY_CONFIG), reason='no small SIM config yet')
def test_release_to_sim_fits_the_small_config():
    from mmcls.models import VisionTransformer
    from mmengine.config import Config
    cfg = Config.fromfile(SIM_TINY_CONFIG)
    arch = cfg.model.backbone.arch
    if isinstance(arch, str):
        arch = next(v for k, v in VisionTransformer.arch_zoo.items()
                    if arch in k)
    neck = cfg.model.neck
    norm = neck.get('norm_cfg', dict(type='SIMTokenBN'))['type']
    release = fake_release_state(
        depth=arch['num_layers'],
        width=arch['embed_dims'],
        hidden=arch['feedforward_channels'],
        proj_depth=neck.get('num_projector_layers', 2),
        pred_depth=neck.get('num_predictor_layers', 4),
        dec_width=neck.get('embed_dims', 768),
        grid=cfg.model.backbone.get('img_size', 224) // 16,
        norm='bn' if norm == 'SIMTokenBN' else 'ln')
    sim = build_sim(cfg.model)
    sim.load_state_dict(convert_release_to_sim(release).state_dict)
