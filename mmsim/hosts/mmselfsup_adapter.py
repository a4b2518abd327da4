# Copyright (c) mmsim contributors. All rights reserved.
"""mmselfsup 1.0.0 (with mmcls 1.0.0rc6) as mmsim's host: the names of
:mod:`mmsim.hosts`."""
from typing import Any, Tuple

import torch
import torch.nn as nn
from mmcls.models.backbones import VisionTransformer
from mmselfsup.datasets.transforms import ColorJitter
from mmselfsup.models.algorithms import BaseModel as BaseSelfSupervisor
from mmselfsup.models.utils import SelfSupDataPreprocessor
from mmselfsup.registry import DATASETS, HOOKS, MODELS, TRANSFORMS

from ..layers.fused_attention import fuse_attention

NAME = 'mmselfsup'
CLS_SCOPE = 'mmcls'
#: mmcls's ViT returns [patch map, cls token] per stage with this.
VIT_ALL_TOKENS = dict(output_cls_token=True)


def vit_patch_map(backbone: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """mmcls's plain ``VisionTransformer.forward`` (all patches, its own
    final norm if it has one), whatever the subclass's own forward does.

    Args:
        backbone (nn.Module): An mmcls ``VisionTransformer`` (or subclass)
            built with ``output_cls_token`` True or False.
        images (torch.Tensor): (B, 3, H, W) normalised images.

    Returns:
        torch.Tensor: (B, C, h, w) patch tokens on their grid.
    """
    last = VisionTransformer.forward(backbone, images)[-1]
    return last[0] if isinstance(last, (list, tuple)) else last


def normalise_images(data_preprocessor: nn.Module,
                     images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) images through a model's own data preprocessor:
    mmselfsup's takes a list of views and returns a tuple, mmcls's (and
    mmengine's) a batch tensor and returns a dict.

    Args:
        data_preprocessor (nn.Module): The model's preprocessor.
        images (torch.Tensor): (B, 3, H, W) uint8 or float images.

    Returns:
        torch.Tensor: (B, 3, H, W) normalised images.
    """
    if isinstance(data_preprocessor, SelfSupDataPreprocessor):
        return data_preprocessor(
            dict(inputs=[images], data_samples=None), False)[0][0]
    return data_preprocessor(dict(inputs=images, data_samples=None),
                             False)['inputs']


def view_geometry(sample: Any) -> Tuple[torch.Tensor, torch.Tensor]:
    """A ``SelfSupDataSample``'s view-1 mask and view-2 ``rel_pos``.

    Args:
        sample (SelfSupDataSample): Packed by ``PackSelfSupInputs`` with
            ``algorithm_keys=['mask']``, ``pseudo_label_keys=['rel_pos']``.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: mask (G, G), rel_pos (6, ).
    """
    return (torch.as_tensor(sample.mask.value),
            torch.as_tensor(sample.pseudo_label.rel_pos))


__all__ = [
    'NAME', 'CLS_SCOPE', 'MODELS', 'TRANSFORMS', 'HOOKS', 'DATASETS',
    'BaseSelfSupervisor', 'VisionTransformer', 'VIT_ALL_TOKENS', 'ColorJitter',
    'fuse_attention', 'vit_patch_map', 'normalise_images', 'view_geometry'
]
