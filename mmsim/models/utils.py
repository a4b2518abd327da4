# Copyright (c) mmsim contributors. All rights reserved.
"""Former home of mmsim's layers and algorithm helpers, now split.

``from mmsim.models.utils import NAME`` fails with an ``ImportError`` that
names NAME's new module.
"""

#: Former name -> its module now.
MOVED = {
    'DeferredChecks': 'mmsim.models.algorithms',
    'MomentumTarget': 'mmsim.models.algorithms',
    'cosine_momentum': 'mmsim.models.algorithms',
    'grid_sincos_pos_embed': 'mmsim.layers',
    'relative_sincos_pos_embed': 'mmsim.layers',
    'sincos_frequencies': 'mmsim.layers',
    'resolve_norm_cfg': 'mmsim.layers',
    'scaled_dot_product_attention': 'mmsim.layers',
    'plain_scaled_dot_product_attention': 'mmsim.layers',
    'gather_tokens': 'mmsim.layers',
    'visible_indices': 'mmsim.layers',
    'SIMTokenBN': 'mmsim.layers.token_batch_norm',
    'FusedMultiheadAttention': 'mmsim.layers.fused_attention',
    'fuse_attention': 'mmsim.layers.fused_attention',
    'build_transformer_layers': 'mmsim.layers.transformer_layers',
}


def __getattr__(name: str):
    if name in MOVED:
        raise ImportError(f'mmsim.models.utils.{name} moved: import it from '
                          f'{MOVED[name]}')
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
