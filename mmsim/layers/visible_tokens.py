# Copyright (c) mmsim contributors. All rights reserved.
"""Where the visible (unmasked) tokens of a batch are, found on the device.

Boolean-mask indexing (``tokens[visible]``) must learn how many elements
it keeps before it can allocate its output, so on a GPU it waits for the
device and copies that count to the host. When the count per sample is
already known on the host, the positions come from a cumulative sum and a
scatter instead, and the tokens from a gather, with no such wait.
:func:`count_visible` is the one function here that reads the mask on the
host: it is for callers outside a training step.
"""
import torch


def flat_mask(mask: torch.Tensor, num_tokens: int) -> torch.Tensor:
    """The mask as (B, N), checked to cover ``num_tokens`` cells (its
    shape only: nothing is read on the host).

    Args:
        mask (torch.Tensor): (B, N) or (B, G, G), nonzero = masked.
        num_tokens (int): Patch tokens per sample the mask must cover.

    Returns:
        torch.Tensor: The mask of shape (B, N), N = ``num_tokens``.
    """
    cells = mask.reshape(mask.shape[0], -1)
    if cells.shape[1] != num_tokens:
        raise ValueError(f'mask has {cells.shape[1]} cells per sample '
                         f'but there are {num_tokens} patch tokens')
    return cells


def count_visible(mask: torch.Tensor, num_tokens: int) -> int:
    """Visible cells per sample, counted on the host, and checked.

    Reads the mask on the host (on a GPU, the host waits for the device).

    Args:
        mask (torch.Tensor): (B, N) or (B, G, G), nonzero = masked.
        num_tokens (int): Patch tokens per sample the mask must cover.

    Returns:
        int: ``V``, the visible cells of every sample.

    Raises:
        ValueError: The mask has not ``num_tokens`` cells per sample, or
            its samples keep different numbers of cells.
    """
    counts = flat_mask(mask, num_tokens).eq(0).sum(1)
    if bool((counts != counts[0]).any()):
        raise ValueError('every sample must mask the same number of patches, '
                         f'got visible counts {counts.tolist()}')
    return int(counts[0])


def visible_indices(mask: torch.Tensor, num_visible: int) -> torch.Tensor:
    """Positions of each sample's visible cells, in raster order.

    The mask is not read on the host: every sample must have exactly
    ``num_visible`` visible cells, which this function does not check (a
    sample with more keeps its first ``num_visible``; one with fewer also
    gets masked positions).

    Args:
        mask (torch.Tensor): (B, N) or (B, G, G), nonzero = masked.
        num_visible (int): Visible cells per sample ``V``.

    Returns:
        torch.Tensor: Long tensor of shape (B, V), increasing in each row.
    """
    batch, num_cells = mask.shape[0], mask[0].numel()
    visible = mask.reshape(batch, -1).eq(0)
    # Each visible cell's rank among the visible cells of its row is where
    # its position goes; masked cells (and any beyond V) go to a spare
    # column V, dropped at the end.
    slot = visible.long().cumsum(1).sub_(1).clamp_(max=num_visible)
    slot = slot.masked_fill_(~visible, num_visible)
    positions = torch.arange(num_cells, device=mask.device).expand(batch, -1)
    indices = positions.new_zeros(batch, num_visible + 1)
    return indices.scatter_(1, slot, positions)[:, :num_visible]


def counted_visible_indices(mask: torch.Tensor,
                            num_tokens: int) -> torch.Tensor:
    """:func:`visible_indices` with the count read and checked on the host
    by :func:`count_visible` (for code off the training hot path).

    Args:
        mask (torch.Tensor): (B, N) or (B, G, G), nonzero = masked.
        num_tokens (int): Patch tokens per sample the mask must cover.

    Returns:
        torch.Tensor: Long tensor of shape (B, V).
    """
    return visible_indices(mask, count_visible(mask, num_tokens))


def gather_tokens(tokens: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """The tokens of each sample at the given positions.

    Args:
        tokens (torch.Tensor): Tokens of shape (B, N, C).
        indices (torch.Tensor): Long positions of shape (B, V).

    Returns:
        torch.Tensor: Tokens of shape (B, V, C).
    """
    index = indices.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])
    return torch.gather(tokens, 1, index)
