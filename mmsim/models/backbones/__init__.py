# Copyright (c) mmsim contributors. All rights reserved.
from .sim_vit import SIMViT

__all__ = ['SIMViT']
