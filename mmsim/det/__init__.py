# Copyright (c) mmsim contributors. All rights reserved.
"""mmdet-side pieces of mmsim: importing this package registers them in
mmdet's registries. Configs use
``custom_imports=dict(imports=['mmsim.det'], allow_failed_imports=False)``.
The pre-training path (``mmsim``) never imports this package.
"""
from . import backbones, layers, necks, optimizers  # noqa: F401
from .backbones import SIMViTDet
from .layers import SIMLayerNorm2d
from .necks import SIMSimpleFPN
from .optimizers import SIMViTLayerDecayOptimizerConstructor

__all__ = [
    'SIMViTDet', 'SIMLayerNorm2d', 'SIMSimpleFPN',
    'SIMViTLayerDecayOptimizerConstructor'
]
