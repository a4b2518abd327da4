# Copyright (c) mmsim contributors. All rights reserved.
"""Attention on torch without ``F.scaled_dot_product_attention`` (< 2.0):
the plain path gives what torch's fused kernel gives, and SIM's and the
detection backbone's attention run on it (the function is removed from
``torch.nn.functional`` for the test, as torch 1.x lacks it)."""
import pytest
import torch
import torch.nn.functional as F

from mmsim.det.layers import RelPosAttention
from mmsim.layers import (plain_scaled_dot_product_attention,
                          scaled_dot_product_attention)
from tests._host import MODELS
from tests._model_cfgs import random_batch, tiny_sim_cfg

FUSED = F.scaled_dot_product_attention


@pytest.mark.parametrize('mask', [None, 'float', 'bool'])
def test_plain_attention_equals_torch_kernel(mask):
    q, k, v = (torch.randn(2, 3, 5, 8) for _ in range(3))
    attn_mask = None
    if mask == 'float':
        attn_mask = torch.randn(2, 3, 5, 5)
    elif mask == 'bool':
        attn_mask = torch.rand(5, 5) > 0.3
        attn_mask[:, 0] = True  # every query sees at least one key
    torch.testing.assert_close(
        plain_scaled_dot_product_attention(q, k, v, attn_mask),
        FUSED(q, k, v, attn_mask=attn_mask))


def test_models_run_without_torch_fused_attention(monkeypatch):
    model = MODELS.build(tiny_sim_cfg())
    model.init_weights()
    model.eval()
    views, samples = random_batch()
    attn = RelPosAttention(8, 2, rel_pos_size=(3, 3))
    with torch.no_grad():
        attn.rel_pos_h.normal_()
    grid = torch.randn(2, 3, 3, 8)
    with torch.no_grad():
        fused = model.extract_feat(views)[0], model.loss(views, samples)
        fused_det = attn(grid)
        monkeypatch.delattr(F, 'scaled_dot_product_attention')
        plain = model.extract_feat(views)[0], model.loss(views, samples)
        plain_det = attn(grid)
    torch.testing.assert_close(plain[0], fused[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(plain[1]['loss'], fused[1]['loss'])
    torch.testing.assert_close(plain_det, fused_det, atol=1e-5, rtol=1e-5)
    q = torch.randn(1, 4, 6)
    torch.testing.assert_close(
        scaled_dot_product_attention(q, q, q), FUSED(q, q, q))
