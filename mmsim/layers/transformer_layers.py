# Copyright (c) mmsim contributors. All rights reserved.
"""Pre-norm transformer blocks for SIM's projector and predictor.

Ours rather than a host's: mmcls names a block's norms by the norm's
abbreviation (``bn1`` for :class:`~mmsim.layers.token_batch_norm.SIMTokenBN`)
and mmpretrain always ``ln1``, so the hosts' blocks would give the neck two
checkpoint layouts. This block keeps mmcls's layout (``{abbr}1``,
``attn.qkv``, ``attn.proj``, ``{abbr}2``, ``ffn.layers.0.0``,
``ffn.layers.1``: mmcv's ``FFN``, mmcv's norm naming) in both hosts, with
the same maths (and the same random draws at construction) as mmcls's
``TransformerEncoderLayer`` without dropout.
"""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN
from mmengine.registry import Registry

from .norm_cfg import resolve_norm_cfg
from .scaled_dot_product import (plain_scaled_dot_product_attention,
                                 scaled_dot_product_attention)


class TokenSelfAttention(nn.Module):
    """Multi-head self-attention with one ``qkv`` and one ``proj`` linear.

    Args:
        embed_dims (int): Token width ``C``.
        num_heads (int): Heads; must divide ``C``.
        fused (bool): Compute through
            :func:`~mmsim.layers.scaled_dot_product_attention` (torch's fused
            kernel) rather than plain operations. Defaults to True.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 fused: bool = True) -> None:
        super().__init__()
        self.fused = fused
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.qkv = nn.Linear(embed_dims, embed_dims * 3)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Attend (B, N, C) tokens to each other; returns (B, N, C)."""
        batch, num_tokens, channels = tokens.shape
        qkv = self.qkv(tokens).reshape(batch, num_tokens, 3, self.num_heads,
                                       self.head_dims).permute(2, 0, 3, 1, 4)
        attention = (
            scaled_dot_product_attention
            if self.fused else plain_scaled_dot_product_attention)
        out = attention(qkv[0], qkv[1], qkv[2])
        return self.proj(
            out.transpose(1, 2).reshape(batch, num_tokens, channels))


class PreNormTransformerBlock(nn.Module):
    """``x + attn(norm1(x))``, then ``x + ffn(norm2(x))`` on (B, N, C).

    Args:
        embed_dims (int): Token width ``C``.
        num_heads (int): Attention heads; must divide ``C``.
        feedforward_channels (int): FFN hidden width.
        norm_cfg (dict): Norm with its ``type`` a class (see
            :func:`~mmsim.layers.resolve_norm_cfg`) or a name mmengine's
            registry knows.
        fused_attention (bool): See :class:`TokenSelfAttention`'s ``fused``.
            Defaults to True.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 feedforward_channels: int,
                 norm_cfg: dict,
                 fused_attention: bool = True) -> None:
        super().__init__()
        self.norm1_name, norm1 = build_norm_layer(
            norm_cfg, embed_dims, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.attn = TokenSelfAttention(embed_dims, num_heads, fused_attention)
        self.norm2_name, norm2 = build_norm_layer(
            norm_cfg, embed_dims, postfix=2)
        self.add_module(self.norm2_name, norm2)
        self.ffn = FFN(
            embed_dims=embed_dims,
            feedforward_channels=feedforward_channels,
            act_cfg=dict(type='GELU'))

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        return getattr(self, self.norm2_name)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N, C) -> (B, N, C)."""
        tokens = tokens + self.attn(self.norm1(tokens))
        return self.ffn(self.norm2(tokens), identity=tokens)


def build_transformer_layers(
        num_layers: int,
        embed_dims: int,
        num_heads: int,
        mlp_ratio: float = 4.,
        norm_cfg: dict = dict(type='LN', eps=1e-6),
        fused_attention: bool = True,
        registry: Optional[Registry] = None) -> nn.ModuleList:
    """A stack of :class:`PreNormTransformerBlock` for (B, N, C) tokens.

    Args:
        num_layers (int): Number of blocks.
        embed_dims (int): Token width ``C``.
        num_heads (int): Attention heads; must divide ``embed_dims``.
        mlp_ratio (float): FFN hidden width over ``C``. Defaults to 4.
        norm_cfg (dict): Norm of each block, e.g. ``dict(type='SIMTokenBN')``
            or ``dict(type='LN', eps=1e-6)``.
        fused_attention (bool): Attention through torch's fused kernel.
            Defaults to True.
        registry (Registry, optional): Where ``norm_cfg``'s type name is
            looked up. Defaults to the host's ``MODELS``.

    Returns:
        nn.ModuleList: ``num_layers`` blocks.
    """
    if embed_dims % num_heads != 0:
        raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                         f'num_heads={num_heads}')
    norm_cfg = resolve_norm_cfg(norm_cfg, registry)
    return nn.ModuleList(
        PreNormTransformerBlock(embed_dims, num_heads,
                                int(embed_dims *
                                    mlp_ratio), norm_cfg, fused_attention)
        for _ in range(num_layers))
