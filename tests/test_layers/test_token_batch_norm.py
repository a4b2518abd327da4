# Copyright (c) mmsim contributors. All rights reserved.
import torch
import torch.nn as nn

from mmsim.layers.token_batch_norm import SIMTokenBN
from tests._dist_utils import run_distributed


def test_matches_batchnorm1d_over_all_tokens_in_fp32():
    norm = SIMTokenBN(8)
    reference = nn.BatchNorm1d(8)
    x = torch.randn(4, 5, 8) * 3 + 2
    out = norm(x.bfloat16())
    assert out.dtype == torch.float32 and out.shape == x.shape
    expected = reference(x.bfloat16().float().reshape(-1, 8)).reshape(x.shape)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(norm.running_mean, reference.running_mean)
    torch.testing.assert_close(norm.running_var, reference.running_var)
    norm.eval()
    reference.eval()
    torch.testing.assert_close(
        norm(x),
        reference(x.reshape(-1, 8)).reshape(x.shape))


def _synced_forward_backward(rank, world_size, x, weight):
    norm = SIMTokenBN(x.shape[-1])
    local = x.chunk(world_size)[rank].clone().requires_grad_()
    out = norm(local)
    (out * weight.chunk(world_size)[rank]).sum().backward()
    return out.detach(), local.grad, norm.weight.grad, norm.running_mean, \
        norm.running_var


def test_two_processes_equal_one_process_batch_norm():
    x = torch.randn(6, 7, 4) * 2 + 1
    weight = torch.randn(6, 7, 4)
    results = run_distributed(_synced_forward_backward, 2, (x, weight))
    norm = SIMTokenBN(4)
    full = x.clone().requires_grad_()
    out = norm(full)
    (out * weight).sum().backward()
    outs = torch.cat([r[0] for r in results])
    grads = torch.cat([r[1] for r in results])
    torch.testing.assert_close(outs, out.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grads, full.grad, rtol=1e-4, atol=1e-5)
    # parameter gradients add up across processes (DDP then averages)
    torch.testing.assert_close(
        results[0][2] + results[1][2], norm.weight.grad, rtol=1e-5, atol=1e-5)
    for result in results:
        torch.testing.assert_close(result[3], norm.running_mean)
        torch.testing.assert_close(result[4], norm.running_var)
