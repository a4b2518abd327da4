# Copyright (c) mmsim contributors. All rights reserved.
"""mmpretrain 1.2.0 as mmsim's host: the names of :mod:`mmsim.hosts`."""
from typing import Any, Tuple

import torch
import torch.nn as nn
from mmpretrain.datasets.transforms import ColorJitter
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.models.utils import SelfSupDataPreprocessor
from mmpretrain.registry import DATASETS, HOOKS, MODELS, TRANSFORMS

NAME = 'mmpretrain'
CLS_SCOPE = 'mmpretrain'
#: mmpretrain's ViT returns the (B, 1 + N, C) tokens per stage with this.
VIT_ALL_TOKENS = dict(out_type='raw')


def fuse_attention(module: nn.Module) -> nn.Module:
    """Return ``module`` as it is: mmpretrain's ``MultiheadAttention``
    already computes with ``F.scaled_dot_product_attention`` on torch >=
    2.0 (mmcls's, which :mod:`mmsim.layers.fused_attention` switches, does
    not)."""
    return module


def vit_patch_map(backbone: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """mmpretrain's plain ``VisionTransformer.forward`` (all patches, its
    own final norm if it has one) read as a feature map, whatever the
    subclass's own forward and ``out_type`` are.

    Args:
        backbone (nn.Module): An mmpretrain ``VisionTransformer`` (or
            subclass).
        images (torch.Tensor): (B, 3, H, W) normalised images.

    Returns:
        torch.Tensor: (B, C, h, w) patch tokens on their grid.
    """
    out_type = backbone.out_type
    backbone.out_type = 'featmap'
    try:
        return VisionTransformer.forward(backbone, images)[-1]
    finally:
        backbone.out_type = out_type


def normalise_images(data_preprocessor: nn.Module,
                     images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) images through a model's own data preprocessor
    (mmpretrain's self-supervised one takes a list of views).

    Args:
        data_preprocessor (nn.Module): The model's preprocessor.
        images (torch.Tensor): (B, 3, H, W) uint8 or float images.

    Returns:
        torch.Tensor: (B, 3, H, W) normalised images.
    """
    if isinstance(data_preprocessor, SelfSupDataPreprocessor):
        return data_preprocessor(
            dict(inputs=[images], data_samples=None), False)['inputs'][0]
    return data_preprocessor(dict(inputs=images, data_samples=None),
                             False)['inputs']


def view_geometry(sample: Any) -> Tuple[torch.Tensor, torch.Tensor]:
    """A ``DataSample``'s view-1 mask and view-2 ``rel_pos``.

    Args:
        sample (DataSample): Packed by ``PackInputs`` (which packs ``mask``
            itself) with ``algorithm_keys=['rel_pos']``.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: mask (G, G), rel_pos (6, ).
    """
    return torch.as_tensor(sample.mask), torch.as_tensor(sample.rel_pos)


__all__ = [
    'NAME', 'CLS_SCOPE', 'MODELS', 'TRANSFORMS', 'HOOKS', 'DATASETS',
    'BaseSelfSupervisor', 'VisionTransformer', 'VIT_ALL_TOKENS', 'ColorJitter',
    'fuse_attention', 'vit_patch_map', 'normalise_images', 'view_geometry'
]
