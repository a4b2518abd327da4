# Copyright (c) mmsim contributors. All rights reserved.
from .simple_fpn import SIMSimpleFPN

__all__ = ['SIMSimpleFPN']
