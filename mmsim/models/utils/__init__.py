# Copyright (c) mmsim contributors. All rights reserved.
from .deferred_checks import DeferredChecks
from .fused_attention import FusedMultiheadAttention, fuse_attention
from .momentum_target import MomentumTarget, cosine_momentum
from .position_embedding import (grid_sincos_pos_embed,
                                 relative_sincos_pos_embed,
                                 sincos_frequencies)
from .norm_cfg import resolve_norm_cfg
from .scaled_dot_product import (plain_scaled_dot_product_attention,
                                 scaled_dot_product_attention)
from .token_batch_norm import SIMTokenBN
from .transformer_layers import build_transformer_layers
from .visible_tokens import gather_tokens, visible_indices

__all__ = [
    'DeferredChecks',
    'FusedMultiheadAttention', 'fuse_attention', 'MomentumTarget',
    'cosine_momentum', 'grid_sincos_pos_embed', 'relative_sincos_pos_embed',
    'sincos_frequencies', 'SIMTokenBN', 'resolve_norm_cfg',
    'build_transformer_layers', 'scaled_dot_product_attention',
    'plain_scaled_dot_product_attention', 'gather_tokens', 'visible_indices'
]
