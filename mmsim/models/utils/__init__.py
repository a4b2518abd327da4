# Copyright (c) mmsim contributors. All rights reserved.
from .fused_attention import FusedMultiheadAttention, fuse_attention
from .momentum_target import MomentumTarget, cosine_momentum
from .position_embedding import (grid_sincos_pos_embed,
                                 relative_sincos_pos_embed,
                                 sincos_frequencies)
from .norm_cfg import resolve_norm_cfg
from .token_batch_norm import SIMTokenBN
from .transformer_layers import build_transformer_layers

__all__ = [
    'FusedMultiheadAttention', 'fuse_attention', 'MomentumTarget',
    'cosine_momentum', 'grid_sincos_pos_embed', 'relative_sincos_pos_embed',
    'sincos_frequencies', 'SIMTokenBN', 'resolve_norm_cfg',
    'build_transformer_layers'
]
