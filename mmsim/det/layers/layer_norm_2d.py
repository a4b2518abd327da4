# Copyright (c) mmsim contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS


@MODELS.register_module()
class SIMLayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (B, C, H, W) feature map.

    The norm of ViTDet's simple feature pyramid and of its RoI heads
    (`Exploring Plain Vision Transformer Backbones for Object Detection
    <https://arxiv.org/abs/2203.16527>`_). mmdet 3.3.0 registers no 2-D
    LayerNorm, so configs select this one through
    ``norm_cfg=dict(type='SIMLayerNorm2d', eps=1e-6)`` wherever mmcv's
    ``ConvModule`` takes a ``norm_cfg``.

    Args:
        num_channels (int): Channels ``C``.
        eps (float): Added to the variance. Defaults to 1e-6.
        elementwise_affine (bool): Learn a per-channel weight and bias.
            Defaults to True.
    """
    _abbr_ = 'ln'

    def __init__(self,
                 num_channels: int,
                 eps: float = 1e-6,
                 elementwise_affine: bool = True) -> None:
        super().__init__(
            num_channels, eps=eps, elementwise_affine=elementwise_affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each position over its channels.

        Args:
            x (torch.Tensor): Feature map of shape (B, C, H, W).

        Returns:
            torch.Tensor: Feature map of shape (B, C, H, W).
        """
        if x.dim() != 4:
            raise ValueError('SIMLayerNorm2d expects (B, C, H, W) input, got '
                             f'shape {tuple(x.shape)}')
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2).contiguous()
