# Copyright (c) mmsim contributors. All rights reserved.
from typing import Optional

from mmengine.registry import Registry


def resolve_norm_cfg(norm_cfg: dict,
                     registry: Optional[Registry] = None) -> dict:
    """Return ``norm_cfg`` with its ``type`` looked up in ``registry``.

    mmcv's ``build_norm_layer`` searches the registry of the current default
    scope, which is not the toolbox's own outside a runner; resolving the
    class here makes e.g. ``dict(type='SIMTokenBN')`` or
    ``dict(type='LN')`` work in any context.

    Args:
        norm_cfg (dict): Norm config with a ``type`` name or class.
        registry (Registry, optional): Where to look names up (it falls
            back to mmengine's). Defaults to the host's ``MODELS``
            (:mod:`mmsim.hosts`).

    Returns:
        dict: A copy whose ``type`` is the class.
    """
    if registry is None:
        from ..hosts import host
        registry = host().MODELS
    cfg = dict(norm_cfg)
    layer_type = cfg.get('type')
    if isinstance(layer_type, str):
        cfg['type'] = registry.get(layer_type)
        if cfg['type'] is None:
            raise KeyError(f'norm_cfg type {layer_type!r} is not registered '
                           f'in {registry.scope} or mmengine')
    return cfg
