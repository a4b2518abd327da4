# Copyright (c) mmsim contributors. All rights reserved.
from .block_mask import SIMBlockMaskGenerator
from .load_image import SIMLoadImageFromFile
from .two_view_crop import SIMTwoViewCrop

__all__ = ['SIMBlockMaskGenerator', 'SIMLoadImageFromFile', 'SIMTwoViewCrop']
