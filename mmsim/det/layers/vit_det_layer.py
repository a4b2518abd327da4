# Copyright (c) mmsim contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.drop import DropPath
from mmcv.cnn.bricks.transformer import FFN
from mmdet.registry import MODELS

from mmsim.layers import resolve_norm_cfg
from .rel_pos_attention import RelPosAttention
from .window_partition import window_partition, window_unpartition


class ViTDetLayer(nn.Module):
    """Pre-norm transformer block of a ViTDet backbone on a token grid.

    Windowed (``window_size > 0``) or global self-attention with
    decomposed relative position bias, then an MLP, each with a residual
    and stochastic depth. Submodule names match mmcls's
    ``TransformerEncoderLayer`` (``ln1``, ``attn.qkv``, ``attn.proj``,
    ``ln2``, ``ffn.layers.0.0``, ``ffn.layers.1``) so pre-trained ViT
    weights load by prefix.

    Args:
        embed_dims (int): Token width ``C``.
        num_heads (int): Attention heads.
        feedforward_channels (int): MLP hidden width.
        window_size (int): Window side; 0 means global attention.
        grid_size (tuple[int, int]): Token grid of the recipe's input, the
            size of a global block's relative position tables.
        drop_path_rate (float): Stochastic depth of both branches.
            Defaults to 0.
        qkv_bias (bool): Bias in the qkv projection. Defaults to True.
        use_rel_pos (bool): Relative position bias. Defaults to True.
        norm_cfg (dict): Norms. Defaults to LN with eps 1e-6.
        act_cfg (dict): MLP activation. Defaults to GELU.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        feedforward_channels: int,
        window_size: int,
        grid_size: Tuple[int, int],
        drop_path_rate: float = 0.,
        qkv_bias: bool = True,
        use_rel_pos: bool = True,
        norm_cfg: dict = dict(type='LN', eps=1e-6),
        act_cfg: dict = dict(type='GELU')
    ) -> None:
        super().__init__()
        if window_size < 0:
            raise ValueError(f'window_size must be >= 0, got {window_size}')
        self.window_size = window_size
        norm_cfg = resolve_norm_cfg(norm_cfg, MODELS)
        self.ln1 = build_norm_layer(norm_cfg, embed_dims)[1]
        rel_pos_size = (window_size,
                        window_size) if window_size else tuple(grid_size)
        self.attn = RelPosAttention(
            embed_dims,
            num_heads,
            qkv_bias=qkv_bias,
            use_rel_pos=use_rel_pos,
            rel_pos_size=rel_pos_size)
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else nn.Identity()
        self.ln2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.ffn = FFN(
            embed_dims=embed_dims,
            feedforward_channels=feedforward_channels,
            num_fcs=2,
            ffn_drop=0.,
            dropout_layer=dict(type='DropPath', drop_prob=drop_path_rate),
            act_cfg=act_cfg,
            add_identity=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the block.

        Args:
            x (torch.Tensor): Tokens of shape (B, H, W, C).

        Returns:
            torch.Tensor: Tokens of shape (B, H, W, C).
        """
        shortcut = x
        x = self.ln1(x)
        if self.window_size:
            size = x.shape[1:3]
            x, padded_size = window_partition(x, self.window_size)
            x = self.attn(x)
            x = window_unpartition(x, self.window_size, padded_size, size)
        else:
            x = self.attn(x)
        x = shortcut + self.drop_path(x)
        return self.ffn(self.ln2(x), identity=x)
