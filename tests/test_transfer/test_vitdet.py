# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.vitdet: SIM and release encoders into SIMViTDet, and
the backbone arch read from the converted tensors."""
import pytest
import torch

from mmsim.det import SIMViTDet
from mmsim.det.layers import resize_pos_embed_grid
from mmsim.transfer import (CheckpointConversionError, load_state_dict,
                            save_checkpoint)
from mmsim.transfer.vitdet import (backbone_arch, convert_release_to_vitdet,
                                   convert_sim_to_vitdet)
from ..test_det._release_checkpoint import fake_release_state
from ..test_det._sim_checkpoint import (build_sim, save_sim_checkpoint,
                                        tiny_sim_model_cfg)
from ._tiny import DEPTH, HEADS, WIDTH, release_kwargs


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


def test_backbone_arch_from_checkpoint(tmp_path):
    path = str(tmp_path / 'sim.pth')
    save_sim_checkpoint(
        path, embed_dims=64, num_layers=3, num_heads=4, img_size=96)
    arch = backbone_arch(convert_sim_to_vitdet(load_state_dict(path)), 4)
    assert arch == dict(
        arch=dict(
            embed_dims=64, num_layers=3, num_heads=4,
            feedforward_channels=256),
        patch_size=16,
        pretrain_img_size=96)
    assert backbone_arch(convert_sim_to_vitdet(load_state_dict(
        path)))['arch']['num_heads'] == 1  # one head per 64 channels


def test_backbone_arch_needs_patch_16():
    state = build_sim(
        tiny_sim_model_cfg(
            embed_dims=WIDTH, num_layers=DEPTH, num_heads=HEADS)).state_dict()
    conversion = convert_sim_to_vitdet(state)
    weight = conversion.state_dict['patch_embed.projection.weight']
    conversion.state_dict['patch_embed.projection.weight'] = weight[
        ..., :8, :8]
    with pytest.raises(ValueError, match='has patch 8'):
        backbone_arch(conversion)
