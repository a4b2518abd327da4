# Copyright (c) mmsim contributors. All rights reserved.
from .unigrad_head import UniGradHead

__all__ = ['UniGradHead']
