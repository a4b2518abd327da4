# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch

from mmsim.layers import grid_sincos_pos_embed
from tests._host import HOST, HOST_NAME, MODELS
from tests._model_cfgs import TINY_SIM

BACKBONE = TINY_SIM['backbone']


def build(**kwargs):
    model = MODELS.build({**BACKBONE, **kwargs})
    model.init_weights()
    return model


def test_shapes_buffers_and_frozen_patch_embed():
    model = build()
    x = torch.randn(2, 3, 32, 32)
    assert model(x)[0].shape == (2, 17, 32)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[:, :2] = True
    assert model(x, mask)[0].shape == (2, 1 + 8, 32)
    assert 'pos_embed' in dict(model.named_buffers())
    assert 'pos_embed' not in dict(model.named_parameters())
    torch.testing.assert_close(model.pos_embed[0],
                               grid_sincos_pos_embed(4, 32, cls_token=True))
    assert not any(p.requires_grad for p in model.patch_embed.parameters())
    assert not hasattr(model, 'ln1')  # no final norm in pre-training
    trainable = build(frozen_patch_embed=False)
    assert all(p.requires_grad for p in trainable.patch_embed.parameters())


def test_encoder_never_sees_masked_tokens():
    model = build()
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[0, 1:3, 0:3] = True
    mask[1, 0, :] = True
    mask[1, 3, 0:2] = True
    changed = x.clone()
    for b in range(2):
        for r, c in mask[b].nonzero().tolist():
            changed[b, :, r * 8:(r + 1) * 8, c * 8:(c + 1) * 8] = 1e3
    torch.testing.assert_close(model(x, mask)[0], model(changed, mask)[0])
    # ... while a visible patch does change the output
    changed[0, :, 0:8, 0:8] += 1
    assert not torch.allclose(model(x, mask)[0], model(changed, mask)[0])


def test_fused_attention_matches_the_hosts_vit():
    """Same tokens as the host's plain ViT (mmcls's attention, or
    mmpretrain's) on the same weights."""
    model = build()
    model.eval()
    reference = HOST.VisionTransformer(
        arch=BACKBONE['arch'],
        img_size=32,
        patch_size=8,
        final_norm=False,
        norm_cfg=dict(type="LN", eps=1e-6),
        **HOST.VIT_ALL_TOKENS)
    reference.eval()
    state = model.state_dict()
    reference.load_state_dict(state)  # same keys as the host's ViT
    x = torch.randn(2, 3, 32, 32)
    out = reference(x)[-1]
    if HOST_NAME == 'mmselfsup':  # mmcls: [patch map, cls token]
        patch, cls = out
    else:  # mmpretrain 'raw': (B, 1 + N, C)
        cls = out[:, 0]
        patch = out[:, 1:].transpose(1, 2).reshape(2, 32, 4, 4)
    ours = model(x)[0]
    torch.testing.assert_close(ours[:, 0], cls, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        ours[:, 1:].transpose(1, 2).reshape(2, 32, 4, 4),
        patch,
        atol=1e-5,
        rtol=1e-5)


def test_activation_checkpointing_gives_same_gradients():
    plain = build()
    ckpt = build(with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32)
    plain(x)[0].square().mean().backward()
    ckpt(x)[0].square().mean().backward()
    for (name, a), b in zip(plain.named_parameters(), ckpt.parameters()):
        if a.grad is not None:
            torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_init_follows_spec():
    model = build()
    layer = model.layers[0]
    assert torch.all(layer.attn.qkv.bias == 0)
    assert torch.all(layer.ffn.layers[1].bias == 0)
    bound = (6 / (32 + 96))**0.5  # xavier-uniform of the (96, 32) qkv
    assert layer.attn.qkv.weight.abs().max() <= bound
    assert layer.attn.qkv.weight.abs().max() > 0.8 * bound
    assert 0.01 < model.cls_token.std() < 0.04


@pytest.mark.parametrize('kwargs,match', [
    (dict(img_size=30), 'multiple of patch_size'),
    (dict(
        arch=dict(
            embed_dims=30, num_layers=1, num_heads=3, feedforward_channels=8)),
     'divisible by 4'),
])
def test_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build({**BACKBONE, **kwargs})


def test_bad_inputs():
    model = build()
    with pytest.raises(ValueError, match='built for'):
        model(torch.randn(1, 3, 40, 40))
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, :3] = True
    mask[1, :4] = True
    with pytest.raises(ValueError, match='same number'):
        model(torch.randn(2, 3, 32, 32), mask)


def test_trunc_normal_linear_init():
    model = MODELS.build({**BACKBONE, 'linear_init': 'trunc_normal'})
    model.init_weights()
    weights = torch.cat([
        m.weight.flatten() for m in model.modules()
        if isinstance(m, torch.nn.Linear)
    ])
    # std 0.02 against xavier's (6 / (32 + 96)) ** 0.5 / 3 ** 0.5 = 0.125
    assert 0.018 < weights.std() < 0.022
    assert weights.abs().max() < 0.02 * 6
    assert torch.all(model.layers[0].attn.qkv.bias == 0)
    # the patch embedding keeps SIM's xavier init (not a Linear)
    patch = model.patch_embed.projection.weight
    bound = (6 / (patch.shape[0] + patch[0].numel()))**0.5
    assert patch.abs().max() > 0.8 * bound


def test_bad_linear_init():
    with pytest.raises(ValueError, match="linear_init.*'normal'"):
        MODELS.build({**BACKBONE, 'linear_init': 'normal'})
