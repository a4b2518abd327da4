# Copyright (c) mmsim contributors. All rights reserved.
from .abs_pos_embed import pos_embed_grid, resize_pos_embed_grid
from .layer_norm_2d import SIMLayerNorm2d
from .rel_pos_attention import (RelPosAttention, decomposed_rel_pos_bias,
                                relative_position_table)
from .vit_det_layer import ViTDetLayer
from .window_partition import window_partition, window_unpartition

__all__ = [
    'pos_embed_grid', 'resize_pos_embed_grid', 'SIMLayerNorm2d',
    'RelPosAttention', 'decomposed_rel_pos_bias', 'relative_position_table',
    'ViTDetLayer', 'window_partition', 'window_unpartition'
]
