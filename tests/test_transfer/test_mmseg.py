# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.mmseg: SIM encoders into mmseg's ``MAE`` backbone, and
the backbone that loads the result through ``init_cfg``."""
import pytest
import torch

from mmsim.transfer import (CheckpointConversionError, load_state_dict,
                            save_checkpoint)
from mmsim.transfer.mmseg import (MAE_TRANSFER_ONLY, convert_release_to_mmseg,
                                  convert_sim_to_mmseg, is_transfer_only)
from ..test_det._release_checkpoint import fake_release_state
from ..test_seg._mmseg_checkpoint import (RELEASE, mae_backbone, resized_grid,
                                          save_sim, trained_tiny_sim)


@pytest.fixture(scope='module')
def tiny_sim():
    return trained_tiny_sim()


def test_tiny_sim_loads_into_mae_at_128_tensor_by_tensor(tiny_sim, tmp_path):
    """96 px SIM (6 x 6 grid) into MAE at 128 px (8 x 8), through the
    backbone's own ``init_cfg`` loading: every encoder tensor exactly,
    the position grid resized, the transfer-only tensors at their init."""
    sim, cfg = tiny_sim
    src, dst = str(tmp_path / 'sim.pth'), str(tmp_path / 'mmseg.pth')
    save_sim(sim, src)
    conversion = convert_sim_to_mmseg(load_state_dict(src))
    save_checkpoint(conversion.state_dict, dst)
    assert {k.split('.')[0] for k in conversion.dropped} == {'target', 'neck'}

    backbone = mae_backbone(cfg.model.backbone.arch, 128, dst)
    loaded = backbone.state_dict()
    encoder = sim.backbone.state_dict()
    target = sim.target.module['backbone'].state_dict()
    assert set(loaded) == set(encoder) | {
        k
        for k in loaded if is_transfer_only(k)
    }
    for key, tensor in encoder.items():
        if key == 'pos_embed':
            continue
        assert torch.equal(loaded[key], tensor), key
        assert not torch.equal(loaded[key], target[key]), key  # online
    assert encoder['pos_embed'].shape == (1, 1 + 6 * 6, 192)
    torch.testing.assert_close(loaded['pos_embed'],
                               resized_grid(encoder['pos_embed'], 8))
    assert not loaded['pos_embed'][0, 0].any()  # SIM's zero cls row
    for i in range(6):
        table = loaded[f'layers.{i}.attn.relative_position_bias_table']
        assert not table.any()  # zero init
        for gamma in ('gamma_1', 'gamma_2'):
            assert torch.equal(loaded[f'layers.{i}.{gamma}'], torch.ones(192))


def test_at_the_pretraining_grid_mae_computes_the_sim_encoder(
        tiny_sim, tmp_path):
    """Zero relative position bias and layer scale 1: the loaded MAE is
    the SIM encoder, block for block (last block compared), and its
    position embedding is the checkpoint's exactly."""
    sim, cfg = tiny_sim
    dst = str(tmp_path / 'mmseg.pth')
    save_checkpoint(convert_sim_to_mmseg(sim.state_dict()).state_dict, dst)
    backbone = mae_backbone(cfg.model.backbone.arch, 96, dst, (5, ))
    assert torch.equal(backbone.pos_embed, sim.backbone.pos_embed)
    images = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        (tokens, ) = sim.backbone(images)
        (feature, ) = backbone(images)
    assert feature.shape == (2, 192, 6, 6)
    expected = tokens[:, 1:].transpose(1, 2).reshape(2, 192, 6, 6)
    torch.testing.assert_close(feature, expected, rtol=1e-4, atol=1e-4)


def test_release_to_mmseg():
    release = fake_release_state(**RELEASE)
    conversion = convert_release_to_mmseg(release)
    pairs = dict(conversion.mapped)
    assert pairs['cls_token'] == 'cls_token'
    assert pairs['pos_embed'] == 'pos_embed'
    assert pairs['blocks.1.mlp.fc1.weight'] == 'layers.1.ffn.layers.0.0.weight'
    assert pairs['blocks.0.norm2.bias'] == 'layers.0.ln2.bias'
    assert pairs['patch_embed.proj.weight'] == 'patch_embed.projection.weight'
    assert 'mm_cls_token' in conversion.dropped
    assert 'mm_blocks.0.attn.qkv.weight' in conversion.dropped
    assert 'decoder_pos_mlp.weight' in conversion.dropped

    arch = dict(
        embed_dims=64, num_layers=2, num_heads=2, feedforward_channels=256)
    backbone = mae_backbone(arch, 224)
    result = backbone.load_state_dict(conversion.state_dict, strict=False)
    assert not result.unexpected_keys
    assert all(map(is_transfer_only, result.missing_keys))
    assert len(result.missing_keys) == 2 * len(MAE_TRANSFER_ONLY)
    state = backbone.state_dict()
    for src, dst in conversion.mapped:
        assert torch.equal(state[dst], release[src]), (src, dst)


def test_sim_conversion_errors(tiny_sim):
    state = dict(tiny_sim[0].state_dict())
    del state['backbone.layers.5.attn.proj.bias']
    del state['backbone.cls_token']
    state['backbone.ln1.weight'] = torch.ones(192)  # a final norm
    state['momentum'] = torch.zeros(1)
    with pytest.raises(CheckpointConversionError) as error:
        convert_sim_to_mmseg(state)
    message = str(error.value)
    assert message.startswith(
        'the checkpoint is not an mmsim SIM checkpoint: missing keys (2): '
        'backbone.cls_token, backbone.layers.5.attn.proj.bias; unexpected '
        'keys (2): backbone.ln1.weight, momentum')
    state = dict(tiny_sim[0].state_dict())
    state['backbone.pos_embed'] = state['backbone.pos_embed'][:, :30]
    with pytest.raises(CheckpointConversionError, match='square grid'):
        convert_sim_to_mmseg(state)


def test_release_conversion_errors():
    release = fake_release_state(**RELEASE)
    del release['cls_token']
    release['norm.weight'] = torch.ones(64)
    with pytest.raises(
            CheckpointConversionError,
            match=r"release layout: missing keys \(1\): cls_token; "
            r'unexpected keys \(1\): norm.weight'):
        convert_release_to_mmseg(release)


def test_is_transfer_only():
    assert is_transfer_only('layers.11.attn.relative_position_bias_table')
    assert is_transfer_only('layers.0.gamma_2')
    assert not is_transfer_only('layers.0.attn.qkv.weight')
    assert not is_transfer_only('gamma_1')


def test_unconverted_checkpoint_loads_nothing_silently(tiny_sim, tmp_path):
    """Why the converter comes first: mmseg's ``MAE`` loads its
    ``init_cfg`` checkpoint non-strictly without a word, so an mmsim
    checkpoint as it is (keys under ``backbone.``) leaves the random
    init."""
    sim, cfg = tiny_sim
    src = str(tmp_path / 'sim.pth')
    save_sim(sim, src)
    backbone = mae_backbone(cfg.model.backbone.arch, 96, src)
    assert not torch.equal(backbone.layers[0].attn.qkv.weight,
                           sim.backbone.layers[0].attn.qkv.weight)
