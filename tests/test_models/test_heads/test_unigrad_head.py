# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch

from tests._host import MODELS


def naive_unigrad(pred, target, neg_weight):
    rows, dim = pred.shape
    positive = ((pred - target)**2).sum(1).mean()
    corr = target.t() @ target / rows
    negative = torch.diagonal(pred @ corr @ pred.t()).mean()
    return (positive + neg_weight * negative) / dim


def naive_layer_norm(x, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean)**2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def naive_head(pred, target, alpha_global, alpha_dense, subtract, lam=0.02):
    batch, tokens, dim = pred.shape
    target = naive_layer_norm(target)
    loss = 0.
    pred_g, target_g = pred.mean(1), target.mean(1)
    if alpha_global:
        loss = loss + alpha_global * naive_unigrad(pred_g, target_g, lam)
    if subtract:
        pred = pred - pred_g[:, None]
        target = target - target_g[:, None]
    return loss + alpha_dense * naive_unigrad(
        pred.reshape(-1, dim), target.reshape(-1, dim), lam)


@pytest.mark.parametrize(
    'alpha_global,alpha_dense,subtract_mean,subtract',
    [
        (0., 1., None, False),  # release form
        (1., 4., None, True),  # paper form
        (1., 4., False, False),  # explicit override
        (0., 1., True, True),
    ])
def test_head_matches_naive(alpha_global, alpha_dense, subtract_mean,
                            subtract):
    head = MODELS.build(
        dict(
            type='UniGradHead',
            alpha_global=alpha_global,
            alpha_dense=alpha_dense,
            subtract_mean=subtract_mean))
    pred = torch.randn(4, 9, 16, dtype=torch.float64)
    target = torch.randn(4, 9, 16, dtype=torch.float64) * 2 + 1
    ours = head.loss(pred.float(), target.float())
    expected = naive_head(pred, target, alpha_global, alpha_dense, subtract)
    torch.testing.assert_close(ours.double(), expected, rtol=1e-5, atol=1e-6)


def test_head_fp32_under_autocast_and_norm_pred():
    head = MODELS.build(dict(type='UniGradHead', norm_pred=True))
    pred = torch.randn(2, 5, 8)
    target = torch.randn(2, 5, 8)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = head(pred.bfloat16(), target.bfloat16())
    assert loss.dtype == torch.float32
    expected = naive_head(
        naive_layer_norm(pred.bfloat16().double()),
        target.bfloat16().double(), 0., 1., False)
    torch.testing.assert_close(loss.double(), expected, rtol=1e-4, atol=1e-5)


def test_head_rejects_bad_config_and_shapes():
    with pytest.raises(ValueError, match='alpha'):
        MODELS.build(dict(type='UniGradHead', alpha_global=0., alpha_dense=0))
    head = MODELS.build(dict(type='UniGradHead'))
    with pytest.raises(ValueError, match=r'\(B, N, D\)'):
        head.loss(torch.zeros(2, 3, 4), torch.zeros(2, 4, 4))
