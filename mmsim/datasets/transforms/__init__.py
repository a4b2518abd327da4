# Copyright (c) mmsim contributors. All rights reserved.
from .block_mask import SIMBlockMaskGenerator
from .colour_jitter import SIMColorJitter
from .load_image import SIMLoadImageFromFile
from .two_view_crop import SIMTwoViewCrop

__all__ = [
    'SIMBlockMaskGenerator', 'SIMColorJitter', 'SIMLoadImageFromFile',
    'SIMTwoViewCrop'
]
