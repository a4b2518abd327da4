# Copyright (c) mmsim contributors. All rights reserved.
"""Layers shared by mmsim's models and by :mod:`mmsim.det`.

This package re-exports only its host-free pieces (torch and mmengine
only), so that ``import mmsim.layers`` imports neither mmselfsup nor
mmcls. Three modules are bound to a host toolbox and are imported from
their own paths:

- :mod:`mmsim.layers.token_batch_norm`: ``SIMTokenBN``, registered in
  mmselfsup's ``MODELS``;
- :mod:`mmsim.layers.fused_attention`: mmcls's ``MultiheadAttention`` on
  torch's fused kernel;
- :mod:`mmsim.layers.transformer_layers`: stacks of mmcls's transformer
  layers.
"""
from .norm_cfg import resolve_norm_cfg
from .position_embedding import (grid_sincos_pos_embed,
                                 relative_sincos_pos_embed, sincos_frequencies)
from .scaled_dot_product import (plain_scaled_dot_product_attention,
                                 scaled_dot_product_attention)
from .visible_tokens import (count_visible, counted_visible_indices, flat_mask,
                             gather_tokens, visible_indices)

__all__ = [
    'resolve_norm_cfg', 'grid_sincos_pos_embed', 'relative_sincos_pos_embed',
    'sincos_frequencies', 'plain_scaled_dot_product_attention',
    'scaled_dot_product_attention', 'count_visible', 'counted_visible_indices',
    'flat_mask', 'gather_tokens', 'visible_indices'
]
