# Copyright (c) mmsim contributors. All rights reserved.
from .skip_frozen_constructor import SkipFrozenOptimWrapperConstructor

__all__ = ['SkipFrozenOptimWrapperConstructor']
