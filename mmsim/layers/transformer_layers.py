# Copyright (c) mmsim contributors. All rights reserved.
import torch.nn as nn
from mmcls.models.backbones.vision_transformer import TransformerEncoderLayer

from .fused_attention import fuse_attention
from .norm_cfg import resolve_norm_cfg


def build_transformer_layers(num_layers: int,
                             embed_dims: int,
                             num_heads: int,
                             mlp_ratio: float = 4.,
                             norm_cfg: dict = dict(type='LN', eps=1e-6),
                             fused_attention: bool = True) -> nn.ModuleList:
    """A stack of mmcls pre-norm transformer layers for (B, N, C) tokens.

    Args:
        num_layers (int): Number of layers.
        embed_dims (int): Token width ``C``.
        num_heads (int): Attention heads; must divide ``embed_dims``.
        mlp_ratio (float): FFN hidden width over ``C``. Defaults to 4.
        norm_cfg (dict): Norm of each layer, e.g. ``dict(type='SIMTokenBN')``
            or ``dict(type='LN', eps=1e-6)``.
        fused_attention (bool): Use torch's fused attention kernel.
            Defaults to True.

    Returns:
        nn.ModuleList: ``num_layers`` mmcls ``TransformerEncoderLayer``.
    """
    if embed_dims % num_heads != 0:
        raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                         f'num_heads={num_heads}')
    norm_cfg = resolve_norm_cfg(norm_cfg)
    layers = nn.ModuleList(
        TransformerEncoderLayer(
            embed_dims=embed_dims,
            num_heads=num_heads,
            feedforward_channels=int(embed_dims * mlp_ratio),
            norm_cfg=norm_cfg) for _ in range(num_layers))
    if fused_attention:
        fuse_attention(layers)
    return layers
