# Copyright (c) mmsim contributors. All rights reserved.
import torch

from mmsim.layers import gather_tokens, visible_indices


def test_index_gather_equals_boolean_mask_indexing():
    gen = torch.Generator().manual_seed(0)
    batch, cells, visible = 5, 36, 14
    for _ in range(20):
        mask = torch.ones(batch, cells, dtype=torch.bool)
        for row in mask:
            row[torch.randperm(cells, generator=gen)[:visible]] = False
        indices = visible_indices(mask.view(batch, 6, 6), visible)
        assert indices.shape == (batch, visible)
        assert indices.dtype == torch.long
        assert (indices.diff(dim=1) > 0).all()  # raster order
        tokens = torch.randn(batch, cells, 8, generator=gen)
        torch.testing.assert_close(
            gather_tokens(tokens, indices),
            tokens[~mask].view(batch, visible, 8),
            rtol=0,
            atol=0)


def test_gather_passes_gradients_to_the_visible_tokens_only():
    mask = torch.tensor([[0, 1, 0, 1], [1, 1, 0, 0]], dtype=torch.bool)
    tokens = torch.randn(2, 4, 3, requires_grad=True)
    gather_tokens(tokens, visible_indices(mask, 2)).sum().backward()
    assert torch.equal(tokens.grad[..., 0] != 0, ~mask)
