# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch

from mmsim.layers import (grid_sincos_pos_embed, relative_sincos_pos_embed,
                          visible_indices)
from mmsim.layers.token_batch_norm import SIMTokenBN
from tests._host import MODELS
from tests._model_cfgs import TINY_SIM

NECK = TINY_SIM['neck']


def build(**kwargs):
    neck = MODELS.build({**NECK, **kwargs})
    neck.init_weights()
    return neck


def test_prediction_shape_and_norm_choice():
    neck = build()
    assert isinstance(neck.projector.blocks[0].bn1, SIMTokenBN)
    tokens = torch.randn(3, 1 + 6, 32)
    mask = torch.ones(3, 16, dtype=torch.bool)
    mask[:, :6] = False
    rel_pos = torch.tensor([[0., 0., 1., 1., 0., 0.]]).repeat(3, 1)
    visible = visible_indices(mask, 6)
    assert neck(tokens, visible, rel_pos).shape == (3, 16, 16)
    assert neck.projector(tokens).shape == (3, 7, 16)
    ln_neck = build(norm_cfg=dict(type='LN', eps=1e-6))
    assert isinstance(ln_neck.predictor.blocks[0].ln1, torch.nn.LayerNorm)
    assert ln_neck(tokens, visible, rel_pos).shape == (3, 16, 16)


def test_predictor_input_is_the_spec_sequence():
    """Capture what the predictor's first block receives."""
    neck = build()
    neck.eval()
    tokens = torch.randn(2, 1 + 5, 32)
    mask = torch.ones(2, 16, dtype=torch.bool)
    mask[0, [0, 3, 5, 9, 15]] = False
    mask[1, [1, 2, 4, 8, 12]] = False
    rel_pos = torch.tensor([[0.1, 0.2, 0.9, 1.1, 1., 0.4],
                            [0., 0., 1., 1., 0., 0.]])
    seen = {}
    neck.predictor.blocks[0].register_forward_pre_hook(
        lambda module, args: seen.setdefault('x', args[0]))
    neck(tokens, visible_indices(mask, 5), rel_pos)
    projected = neck.projector(tokens)
    e1 = grid_sincos_pos_embed(4, 16)
    e2 = relative_sincos_pos_embed(rel_pos, 4, 16)
    for b in range(2):
        visible = (~mask[b]).nonzero()[:, 0]
        expected = torch.cat([
            projected[b, :1], projected[b, 1:] + e1[visible],
            neck.predictor.mask_token[0] + neck.predictor.pos_mlp(e2[b])
        ])
        torch.testing.assert_close(seen['x'][b], expected)


def test_bad_configuration():
    with pytest.raises(ValueError, match='multiple of 4'):
        MODELS.build({**NECK, 'embed_dims': 18, 'num_heads': 3})
    with pytest.raises(ValueError, match='num_heads'):
        MODELS.build({**NECK, 'embed_dims': 16, 'num_heads': 3})
    with pytest.raises(KeyError, match='not registered'):
        MODELS.build({**NECK, 'norm_cfg': dict(type='NoSuchNorm')})
