# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.release_to_sim: the authors' release into mmsim's SIM
(and the release's key checks, shared with the ViTDet converter)."""
import os.path as osp

import pytest
import torch

from mmsim.transfer import CheckpointConversionError
from mmsim.transfer.release_to_sim import convert_release_to_sim
from mmsim.transfer.vitdet import convert_release_to_vitdet
from ..test_det._release_checkpoint import fake_release_state, release_shapes
from ..test_det._sim_checkpoint import build_sim, tiny_sim_model_cfg
from ._tiny import DEPTH, HEADS, WIDTH, release_kwargs


def test_fake_release_has_the_spec_layout():
    assert len(release_shapes()) == 450  # docs/method.md §6, ViT-B/16 release
    shapes = release_shapes()
    assert shapes['decoder_pos_mlp.weight'] == (768, 1536)
    assert shapes['pos_embed'] == (1, 197, 768)


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
