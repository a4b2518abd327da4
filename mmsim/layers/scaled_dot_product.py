# Copyright (c) mmsim contributors. All rights reserved.
"""Scaled dot-product attention on every torch mmsim supports.

torch >= 2.0 computes it with ``F.scaled_dot_product_attention`` (flash /
memory-efficient kernels on GPU); older torch (1.10 - 1.13, which
mmselfsup 1.0 also supports) lacks that function and gets the same maths
in plain tensor operations.
"""
from typing import Optional

import torch
import torch.nn.functional as F


def plain_scaled_dot_product_attention(query: torch.Tensor,
                                       key: torch.Tensor,
                                       value: torch.Tensor,
                                       attn_mask: Optional[
                                           torch.Tensor] = None,
                                       dropout_p: float = 0.) -> torch.Tensor:
    """``softmax(Q K^T / sqrt(C) + mask) V`` in plain tensor operations.

    The semantics of torch 2.0's ``F.scaled_dot_product_attention``: a
    float ``attn_mask`` is added to the logits, a bool one keeps the
    positions where it is True.

    Args:
        query (torch.Tensor): Shape (..., L, C).
        key (torch.Tensor): Shape (..., S, C).
        value (torch.Tensor): Shape (..., S, C_v).
        attn_mask (torch.Tensor, optional): Broadcastable to (..., L, S).
        dropout_p (float): Dropout on the attention weights. Defaults to 0.

    Returns:
        torch.Tensor: Shape (..., L, C_v).
    """
    logits = (query * query.shape[-1]**-0.5) @ key.transpose(-2, -1)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            logits = logits.masked_fill(~attn_mask, float('-inf'))
        else:
            logits = logits + attn_mask
    weights = logits.softmax(dim=-1)
    if dropout_p > 0.:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ value


def scaled_dot_product_attention(query: torch.Tensor,
                                 key: torch.Tensor,
                                 value: torch.Tensor,
                                 attn_mask: Optional[torch.Tensor] = None,
                                 dropout_p: float = 0.) -> torch.Tensor:
    """Attention by torch's fused kernel where torch has one (>= 2.0),
    else by :func:`plain_scaled_dot_product_attention`.

    Args:
        query (torch.Tensor): Shape (..., L, C).
        key (torch.Tensor): Shape (..., S, C).
        value (torch.Tensor): Shape (..., S, C_v).
        attn_mask (torch.Tensor, optional): Float (added to the logits) or
            bool (True = attend), broadcastable to (..., L, S).
        dropout_p (float): Dropout on the attention weights. Defaults to 0.

    Returns:
        torch.Tensor: Shape (..., L, C_v).
    """
    fused = getattr(F, 'scaled_dot_product_attention', None)
    if fused is None:
        return plain_scaled_dot_product_attention(query, key, value, attn_mask,
                                                  dropout_p)
    return fused(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p)
