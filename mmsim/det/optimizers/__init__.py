# Copyright (c) mmsim contributors. All rights reserved.
from .layer_decay_optim_constructor import (
    SIMViTLayerDecayOptimizerConstructor, vit_layer_id, vitdet_no_decay_names)

__all__ = [
    'SIMViTLayerDecayOptimizerConstructor', 'vit_layer_id',
    'vitdet_no_decay_names'
]
