# Copyright (c) mmsim contributors. All rights reserved.
from .shapes import SHAPE_CLASSES, generate_shapes_dataset
from .transforms import (SIMBlockMaskGenerator, SIMLoadImageFromFile,
                         SIMTwoViewCrop)

__all__ = [
    'SHAPE_CLASSES', 'generate_shapes_dataset', 'SIMBlockMaskGenerator',
    'SIMLoadImageFromFile', 'SIMTwoViewCrop'
]
