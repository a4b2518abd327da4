# Copyright (c) mmsim contributors. All rights reserved.
"""The host toolbox mmsim's pre-training components register in.

mmsim runs in mmselfsup 1.0.0 or in its successor mmpretrain 1.2.0, one
per process (with mmdet installed their model packages cannot share one:
both register ``ResLayerExtraNorm`` in mmdet's registry). The model,
transforms and hooks are one implementation; what differs between the
hosts is behind an adapter module, :mod:`mmsim.hosts.mmselfsup_adapter` or
:mod:`mmsim.hosts.mmpretrain_adapter`, each with the same names:

- ``NAME``: the host package; ``CLS_SCOPE``: the scope of its
  classification configs (``'mmcls'`` / ``'mmpretrain'``);
- ``MODELS``, ``TRANSFORMS``, ``HOOKS``, ``DATASETS``: its registries;
- ``BaseSelfSupervisor``: the base class of :class:`~mmsim.models.SIM`;
- ``VisionTransformer`` and ``VIT_ALL_TOKENS`` (the constructor arguments
  that make its plain forward return every token): the base of
  :class:`~mmsim.models.SIMViT`;
- ``ColorJitter``: the host's torchvision-style jitter;
- ``fuse_attention(module)``: switch the encoder's attention to torch's
  fused kernel (mmpretrain's already uses it);
- ``vit_patch_map(backbone, images)``: a ViT's plain forward as a
  (B, C, h, w) map of its patch tokens;
- ``normalise_images(data_preprocessor, images)``: (B, 3, H, W) images
  through a model's preprocessor (the hosts' return a tuple / a dict);
- ``view_geometry(sample)``: a packed sample's view-1 mask and view-2
  ``rel_pos`` (mmselfsup packs them as ``mask.value`` and
  ``pseudo_label.rel_pos``, mmpretrain as ``mask`` and ``rel_pos``).

Which host: the one :mod:`mmsim.registration` saw imported first (set with
:func:`choose_host`); else the one already imported; else the environment
variable ``MMSIM_HOST``; else the first of :data:`HOST_PACKAGES` installed.
"""
import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Optional, Tuple

#: The host toolboxes, in order of preference when nothing else decides.
HOST_PACKAGES: Tuple[str, ...] = ('mmselfsup', 'mmpretrain')

_chosen: Optional[str] = None


def choose_host(name: str) -> None:
    """Fix the host of this process (once; the same name again is a no-op).

    Args:
        name (str): One of :data:`HOST_PACKAGES`.

    Raises:
        ValueError: An unknown name, or a second, different host.
    """
    global _chosen
    if name not in HOST_PACKAGES:
        raise ValueError(f'mmsim host must be one of {HOST_PACKAGES}, got '
                         f'{name!r}')
    if _chosen is not None and _chosen != name:
        raise ValueError(
            f'mmsim already registered its components in {_chosen}; one '
            f'process runs one host, so {name} cannot be used as well '
            '(run it in its own process)')
    _chosen = name


def host_name() -> str:
    """The host of this process, chosen now if not yet (module docstring).

    Returns:
        str: ``'mmselfsup'`` or ``'mmpretrain'``.

    Raises:
        RuntimeError: Both hosts imported and ``MMSIM_HOST`` unset, or no
            host installed.
    """
    if _chosen is not None:
        return _chosen
    imported = [name for name in HOST_PACKAGES if name in sys.modules]
    wanted = os.environ.get('MMSIM_HOST')
    if len(imported) == 1:
        name = imported[0]
    elif wanted:
        name = wanted
    elif imported:
        raise RuntimeError('both mmselfsup and mmpretrain are imported; set '
                           'MMSIM_HOST to the one mmsim should register in')
    else:
        installed = [
            name for name in HOST_PACKAGES
            if importlib.util.find_spec(name) is not None
        ]
        if not installed:
            raise RuntimeError(
                'mmsim pre-training needs mmselfsup 1.0.0 or mmpretrain '
                '1.2.0; neither is installed (bash tools/setup_env.sh, or '
                'MMSIM_HOST=mmpretrain bash tools/setup_env.sh)')
        name = installed[0]
    choose_host(name)
    return name


def host() -> ModuleType:
    """The adapter module of this process's host (module docstring)."""
    return importlib.import_module(f'{__name__}.{host_name()}_adapter')


__all__ = ['HOST_PACKAGES', 'choose_host', 'host_name', 'host']
