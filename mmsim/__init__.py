# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim: Siamese Image Modeling for mmselfsup (and mmdet, via mmsim.det).

Importing the package registers its checkpoint hook, runner and optimiser
constructor in mmengine's registries at once, and its transforms, models
and training hooks in mmselfsup's registries as soon as mmselfsup is
imported (at once if it already is; :mod:`mmsim.registration`), so that
``import mmsim.det``, ``mmsim.layers`` or the converters never import
mmselfsup or mmcls. mmdet components live in :mod:`mmsim.det`.
"""
from .config_path import config_path
from .registration import register_components
from .version import __version__

register_components()

__all__ = ['__version__', 'config_path']
