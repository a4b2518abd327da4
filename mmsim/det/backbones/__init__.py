# Copyright (c) mmsim contributors. All rights reserved.
from .sim_vit_det import SIMViTDet

__all__ = ['SIMViTDet']
