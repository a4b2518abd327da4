# Copyright (c) mmsim contributors. All rights reserved.
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmsim.layers import scaled_dot_product_attention


def relative_position_table(rel_pos: torch.Tensor, q_size: int,
                            k_size: int) -> torch.Tensor:
    """Look up the relative-position embedding of every (query, key) pair
    along one axis.

    The table holds one embedding per relative offset, ``2 * S - 1`` rows
    for an axis of length ``S``; a table trained for another length is
    resized linearly first (ViTDet, MViTv2).

    Args:
        rel_pos (torch.Tensor): Table of shape (L, C).
        q_size (int): Query positions along the axis.
        k_size (int): Key positions along the axis.

    Returns:
        torch.Tensor: Embeddings of shape (q_size, k_size, C).
    """
    length = 2 * max(q_size, k_size) - 1
    if rel_pos.shape[0] != length:
        rel_pos = F.interpolate(
            rel_pos.t()[None], size=length, mode='linear',
            align_corners=False)[0].t()
    q_scale = max(k_size / q_size, 1.)
    k_scale = max(q_size / k_size, 1.)
    q_coords = torch.arange(q_size, device=rel_pos.device)[:, None] * q_scale
    k_coords = torch.arange(k_size, device=rel_pos.device)[None] * k_scale
    offsets = q_coords - k_coords + (k_size - 1) * k_scale
    return rel_pos[offsets.long()]


def decomposed_rel_pos_bias(q: torch.Tensor, rel_pos_h: torch.Tensor,
                            rel_pos_w: torch.Tensor, q_size: Tuple[int, int],
                            k_size: Tuple[int, int]) -> torch.Tensor:
    """Additive attention bias of decomposed relative positions.

    ``bias[n, i, j] = q_i . R_h[dy(i, j)] + q_i . R_w[dx(i, j)]`` as in
    `MViTv2 <https://arxiv.org/abs/2112.01526>`_ and ViTDet, with ``q`` the
    unscaled queries.

    Args:
        q (torch.Tensor): Queries of shape (N, qh * qw, C), ``N`` = batch x
            heads.
        rel_pos_h (torch.Tensor): Height table of shape (Lh, C).
        rel_pos_w (torch.Tensor): Width table of shape (Lw, C).
        q_size (tuple[int, int]): Query grid ``(qh, qw)``.
        k_size (tuple[int, int]): Key grid ``(kh, kw)``.

    Returns:
        torch.Tensor: Bias of shape (N, qh * qw, kh * kw).
    """
    q_h, q_w = q_size
    k_h, k_w = k_size
    table_h = relative_position_table(rel_pos_h, q_h, k_h).to(q.dtype)
    table_w = relative_position_table(rel_pos_w, q_w, k_w).to(q.dtype)
    grid_q = q.reshape(q.shape[0], q_h, q_w, q.shape[-1])
    bias_h = torch.einsum('nhwc,hkc->nhwk', grid_q, table_h)
    bias_w = torch.einsum('nhwc,wkc->nhwk', grid_q, table_w)
    bias = bias_h[:, :, :, :, None] + bias_w[:, :, :, None, :]
    return bias.reshape(q.shape[0], q_h * q_w, k_h * k_w)


class RelPosAttention(nn.Module):
    """Multi-head self-attention over a token grid with decomposed relative
    position bias, computed by mmsim's ``scaled_dot_product_attention``
    (torch's fused kernel on torch >= 2.0, plain operations before).

    Parameter names follow mmcls's ``MultiheadAttention`` (``qkv``,
    ``proj``), so ViT checkpoints load by prefix; the relative position
    tables ``rel_pos_h`` / ``rel_pos_w`` start at zero (ViTDet), so a
    pre-trained ViT starts out computing exactly its plain attention.

    Args:
        embed_dims (int): Token width ``C``.
        num_heads (int): Attention heads; must divide ``embed_dims``.
        qkv_bias (bool): Bias in the qkv projection. Defaults to True.
        use_rel_pos (bool): Add the relative position bias. Defaults to
            True.
        rel_pos_size (tuple[int, int], optional): Grid ``(H, W)`` the
            tables are sized for (the window, or the whole input grid of a
            global block); other grids resize the tables. Required when
            ``use_rel_pos``.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 use_rel_pos: bool = True,
                 rel_pos_size: Optional[Tuple[int, int]] = None) -> None:
        super().__init__()
        if embed_dims % num_heads != 0:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            if rel_pos_size is None:
                raise ValueError('use_rel_pos=True needs rel_pos_size')
            size_h, size_w = rel_pos_size
            self.rel_pos_h = nn.Parameter(
                torch.zeros(2 * size_h - 1, self.head_dims))
            self.rel_pos_w = nn.Parameter(
                torch.zeros(2 * size_w - 1, self.head_dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend within each grid.

        Args:
            x (torch.Tensor): Tokens of shape (B, H, W, C).

        Returns:
            torch.Tensor: Tokens of shape (B, H, W, C).
        """
        batch, height, width, _ = x.shape
        qkv = self.qkv(x).reshape(batch, height * width, 3, self.num_heads,
                                  self.head_dims).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B, heads, H * W, C / heads) each
        bias = None
        if self.use_rel_pos:
            bias = decomposed_rel_pos_bias(
                q.reshape(batch * self.num_heads, height * width,
                          -1), self.rel_pos_h, self.rel_pos_w, (height, width),
                (height, width)).view(batch, self.num_heads, height * width,
                                      height * width)
        x = scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x.transpose(1, 2).reshape(batch, height, width, self.embed_dims)
        return self.proj(x)
