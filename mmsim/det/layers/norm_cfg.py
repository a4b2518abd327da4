# Copyright (c) mmsim contributors. All rights reserved.
from mmdet.registry import MODELS


def resolve_det_norm_cfg(norm_cfg: dict) -> dict:
    """Return ``norm_cfg`` with its ``type`` looked up in mmdet's registry.

    mmcv's ``build_norm_layer`` searches the registry of the current default
    scope, which is not mmdet's outside a runner; resolving the class here
    makes ``dict(type='SIMLayerNorm2d')`` work in any context.

    Args:
        norm_cfg (dict): Norm config with a ``type`` name or class.

    Returns:
        dict: A copy whose ``type`` is the class.
    """
    cfg = dict(norm_cfg)
    layer_type = cfg.get('type')
    if isinstance(layer_type, str):
        cfg['type'] = MODELS.get(layer_type)
        if cfg['type'] is None:
            raise KeyError(f'norm type {layer_type!r} is not registered in '
                           "mmdet/mmengine (e.g. 'SIMLayerNorm2d', 'LN')")
    return cfg
