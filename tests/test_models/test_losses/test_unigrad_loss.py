# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch

from mmsim.models.losses import unigrad_loss
from tests._dist_utils import run_distributed


def naive_unigrad(pred, target, neg_weight=0.02):
    """The release's form: the negative term through an M x M matrix."""
    rows, dim = pred.shape
    positive = ((pred - target)**2).sum(1).mean()
    corr = target.t() @ target / rows
    negative = torch.diagonal(pred @ corr @ pred.t()).mean()
    return (positive + neg_weight * negative) / dim


@pytest.mark.parametrize('rows,dim,neg_weight', [(7, 4, 0.02), (300, 64, .5),
                                                 (1, 16, 0.02)])
def test_matches_naive_formula_and_gradient(rows, dim, neg_weight):
    pred = torch.randn(rows, dim, dtype=torch.float64) * 3
    target = torch.randn(rows, dim, dtype=torch.float64)
    pred_a = pred.clone().float().requires_grad_()
    pred_b = pred.clone().requires_grad_()
    ours = unigrad_loss(pred_a, target.float(), neg_weight)
    expected = naive_unigrad(pred_b, target, neg_weight)
    assert ours.dtype == torch.float32 and ours.dim() == 0
    torch.testing.assert_close(ours.double(), expected, rtol=1e-5, atol=1e-6)
    ours.backward()
    expected.backward()
    torch.testing.assert_close(
        pred_a.grad.double(), pred_b.grad, rtol=1e-4, atol=1e-6)


def test_runs_in_fp32_under_autocast():
    pred = torch.randn(20, 8).bfloat16()
    target = torch.randn(20, 8).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = unigrad_loss(pred, target)
    assert loss.dtype == torch.float32
    expected = naive_unigrad(pred.double(), target.double())
    torch.testing.assert_close(loss.double(), expected, rtol=1e-5, atol=1e-6)


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match='same shape'):
        unigrad_loss(torch.zeros(3, 4), torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r'\(M, D\)'):
        unigrad_loss(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4))


def _per_rank_loss(rank, world_size, pred, target):
    rows = pred.shape[0] // world_size
    part = slice(rank * rows, (rank + 1) * rows)
    local_pred = pred[part].clone().requires_grad_()
    loss = unigrad_loss(local_pred, target[part])
    loss.backward()
    return loss.detach(), local_pred.grad


def test_two_processes_equal_one_process_on_concatenated_rows():
    pred, target = torch.randn(64, 16), torch.randn(64, 16)
    results = run_distributed(_per_rank_loss, 2, (pred, target))
    rows = 32
    corr = target.t() @ target / 64  # the global F
    for rank, (loss, grad) in enumerate(results):
        part = slice(rank * rows, (rank + 1) * rows)
        local = pred[part].clone().requires_grad_()
        positive = ((local - target[part])**2).sum(1).mean()
        negative = torch.diagonal(local @ corr @ local.t()).mean()
        expected = (positive + 0.02 * negative) / 16
        expected.backward()
        torch.testing.assert_close(loss, expected.detach())
        torch.testing.assert_close(grad, local.grad)
    # The mean of the per-process losses is the 1-process loss.
    mean_loss = sum(loss for loss, _ in results) / 2
    torch.testing.assert_close(mean_loss, unigrad_loss(pred, target))
