# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict, List, Optional, Set, Tuple

import torch.nn as nn
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor
from torch.nn.modules.batchnorm import _BatchNorm

_NO_DECAY_NAMES = ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')
_NORM_TYPES = (nn.LayerNorm, nn.GroupNorm, _BatchNorm)
#: Which tensors get no weight decay (``paramwise_cfg.weight_decay_exempt``).
WEIGHT_DECAY_EXEMPT_RULES = ('vitdet', 'all_1d')


def vitdet_no_decay_names(module: nn.Module,
                          backbone_prefix: str = 'backbone.') -> Set[str]:
    """Names of the tensors ViTDet trains without weight decay.

    detectron2's ViTDet recipe (``get_default_optimizer_params`` with
    ``weight_decay_norm=0`` and a ``pos_embed`` override) and mmdet's ViTDet
    project exempt the parameters of the backbone's torch norm layers and
    its position embedding; biases, relative position tables and the
    neck's and heads' 2-D LayerNorms are decayed.

    Args:
        module (nn.Module): The detector.
        backbone_prefix (str): Prefix of the backbone's parameters.

    Returns:
        set[str]: Parameter names (as ``module.named_parameters()``).
    """
    names = set()
    for module_name, sub in module.named_modules():
        if not isinstance(sub, _NORM_TYPES):
            continue
        for param_name, _ in sub.named_parameters(recurse=False):
            names.add(f'{module_name}.{param_name}')
    names = {n for n in names if n.startswith(backbone_prefix)}
    names.update(n for n, _ in module.named_parameters()
                 if n.startswith(backbone_prefix) and n.endswith('pos_embed'))
    return names


def vit_layer_id(name: str,
                 num_layers: int,
                 backbone_prefix: str = 'backbone.') -> int:
    """Depth of a parameter for layer-wise lr decay (ViTDet's rule).

    Args:
        name (str): Parameter name in the detector, e.g.
            ``'backbone.layers.3.attn.qkv.weight'``.
        num_layers (int): Blocks of the ViT backbone.
        backbone_prefix (str): Prefix of the backbone's parameters.
            Defaults to ``'backbone.'``.

    Returns:
        int: 0 for the patch and position embeddings, ``i + 1`` for block
        ``i``, ``num_layers + 1`` for everything else (neck, heads).
    """
    if not name.startswith(backbone_prefix):
        return num_layers + 1
    name = name[len(backbone_prefix):]
    if name.startswith(('pos_embed', 'patch_embed', 'cls_token')):
        return 0
    if name.startswith('layers.'):
        return int(name.split('.')[1]) + 1
    return num_layers + 1


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SIMViTLayerDecayOptimizerConstructor(DefaultOptimWrapperConstructor):
    """Layer-wise lr decay for a detector with a plain ViT backbone.

    The learning rate of a parameter at depth ``l`` (see
    :func:`vit_layer_id`) is ``lr * decay_rate ** (num_layers + 1 - l)``:
    neck and heads train at ``lr``, the last block at ``lr * decay_rate``,
    the embeddings at ``lr * decay_rate ** (num_layers + 1)`` (ViTDet,
    following BEiT). Weight decay is 0 for the backbone's norm layers and
    position embedding (ViTDet's rule, :func:`vitdet_no_decay_names`);
    every other tensor gets the optimizer's ``weight_decay``.

    ``paramwise_cfg`` keys:

    - ``decay_rate`` (float): Per-block lr decay. Defaults to 0.7.
    - ``num_layers`` (int, optional): Backbone blocks; read from
      ``model.backbone.layers`` when absent.
    - ``backbone_prefix`` (str): Defaults to ``'backbone.'``.
    - ``weight_decay_exempt`` (str): ``'vitdet'`` (default, as above) or
      ``'all_1d'``: every one-dimensional tensor (norms and biases
      anywhere) plus position embeddings, cls token and relative position
      tables, as BEiT/MAE fine-tuning does (2x the exempt elements at
      ViT-B; not measured better for detection).

    Examples:
        >>> optim_wrapper = dict(
        ...     constructor='SIMViTLayerDecayOptimizerConstructor',
        ...     paramwise_cfg=dict(decay_rate=0.7),
        ...     optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.1))
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        paramwise_cfg.setdefault('decay_rate', 0.7)
        paramwise_cfg.setdefault('backbone_prefix', 'backbone.')
        paramwise_cfg.setdefault('weight_decay_exempt', 'vitdet')
        decay_rate = paramwise_cfg['decay_rate']
        if not 0. < decay_rate <= 1.:
            raise ValueError(f'decay_rate must be in (0, 1], got {decay_rate}')
        if paramwise_cfg['weight_decay_exempt'] not in \
                WEIGHT_DECAY_EXEMPT_RULES:
            raise ValueError(
                'paramwise_cfg.weight_decay_exempt must be one of '
                f'{WEIGHT_DECAY_EXEMPT_RULES}, got '
                f'{paramwise_cfg["weight_decay_exempt"]!r}')
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def _num_layers(self, module: nn.Module) -> int:
        num_layers = self.paramwise_cfg.get('num_layers')
        if num_layers is not None:
            return int(num_layers)
        layers = getattr(getattr(module, 'backbone', None), 'layers', None)
        if layers is None:
            raise ValueError(
                'cannot read the number of ViT blocks from model.backbone.'
                'layers: set paramwise_cfg.num_layers')
        return len(layers)

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   **kwargs) -> None:
        """Append one param group per (depth, decayed or not) to
        ``params``.

        Args:
            params (list[dict]): Param groups to extend.
            module (nn.Module): The detector (unwrapped).
            prefix (str): Prefix of ``module``'s parameter names.
        """
        num_layers = self._num_layers(module)
        decay_rate = self.paramwise_cfg['decay_rate']
        backbone_prefix = self.paramwise_cfg['backbone_prefix']
        exempt_names = vitdet_no_decay_names(module, backbone_prefix)
        vitdet_exempt = {
            id(p)
            for n, p in module.named_parameters() if n in exempt_names
        }
        groups: Dict[Tuple[int, bool], dict] = {}
        for name, param in module.named_parameters(prefix=prefix.rstrip('.')):
            if not param.requires_grad:
                params.append(dict(params=[param]))
                continue
            layer_id = vit_layer_id(name, num_layers, backbone_prefix)
            if self.paramwise_cfg['weight_decay_exempt'] == 'vitdet':
                no_decay = id(param) in vitdet_exempt
            else:
                no_decay = param.ndim == 1 or name.endswith(_NO_DECAY_NAMES)
            key = (layer_id, no_decay)
            if key not in groups:
                scale = decay_rate**(num_layers + 1 - layer_id)
                groups[key] = dict(
                    params=[], lr=self.base_lr * scale, lr_scale=scale)
                if self.base_wd is not None:
                    groups[key]['weight_decay'] = \
                        0. if no_decay else self.base_wd
            groups[key]['params'].append(param)
        logger = MMLogger.get_current_instance()
        for (layer_id, no_decay), group in sorted(groups.items()):
            kind = 'no decay' if no_decay else 'decay'
            logger.debug(f'depth {layer_id} ({kind}): lr_scale='
                         f'{group["lr_scale"]:.4g}, '
                         f'{len(group["params"])} tensors')
            params.append(group)
        logger.info(
            f'SIMViTLayerDecayOptimizerConstructor: {len(groups)} param '
            f'groups, {num_layers} blocks, decay_rate={decay_rate}')
