# Copyright (c) mmsim contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmdet.registry import MODELS
from mmengine.model import BaseModule

from mmsim.layers import resolve_norm_cfg


@MODELS.register_module()
class SIMSimpleFPN(BaseModule):
    """ViTDet's simple feature pyramid from one stride-16 map.

    `Exploring Plain Vision Transformer Backbones for Object Detection
    <https://arxiv.org/abs/2203.16527>`_.

    Each scale factor ``s`` makes one level of stride ``16 / s`` from the
    backbone map (B, C, H, W):

    - ``4``: deconv 2x2/2 (C -> C/2), norm, GELU, deconv 2x2/2 (-> C/4);
    - ``2``: deconv 2x2/2 (C -> C/2);
    - ``1``: identity;
    - ``0.5``: max-pool 2x2/2;

    then a 1x1 conv and a 3x3 conv, each with a norm. With ``num_outs``
    above the number of scales, extra levels are max-pooled (kernel 1,
    stride 2) from the last one, as ViTDet's ``LastLevelMaxPool`` for RPN.

    Args:
        in_channels (int): Backbone width ``C``. Defaults to 768.
        out_channels (int): Width of every level. Defaults to 256.
        scale_factors (Sequence[float]): Upsampling factor of each level,
            from the finest. Defaults to (4., 2., 1., .5), strides 4 to 32.
        num_outs (int): Levels returned. Defaults to 5 (adds stride 64).
        norm_cfg (dict): Norm of the convs. Defaults to
            ``dict(type='SIMLayerNorm2d', eps=1e-6)``.
        init_cfg (dict | list, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 768,
                 out_channels: int = 256,
                 scale_factors: Sequence[float] = (4., 2., 1., .5),
                 num_outs: int = 5,
                 norm_cfg: dict = dict(type='SIMLayerNorm2d', eps=1e-6),
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = resolve_norm_cfg(norm_cfg, MODELS)
        if num_outs < len(scale_factors):
            raise ValueError(f'num_outs={num_outs} is fewer than the '
                             f'{len(scale_factors)} scale factors')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factors = tuple(scale_factors)
        self.num_outs = num_outs
        self.samplers = nn.ModuleList()
        self.lateral_convs = nn.ModuleList()
        self.output_convs = nn.ModuleList()
        for scale in self.scale_factors:
            sampler, channels = self._make_sampler(scale, in_channels,
                                                   norm_cfg)
            self.samplers.append(sampler)
            self.lateral_convs.append(
                ConvModule(
                    channels, out_channels, 1, norm_cfg=norm_cfg,
                    act_cfg=None))
            self.output_convs.append(
                ConvModule(
                    out_channels,
                    out_channels,
                    3,
                    padding=1,
                    norm_cfg=norm_cfg,
                    act_cfg=None))

    @staticmethod
    def _make_sampler(scale: float, channels: int,
                      norm_cfg: dict) -> Tuple[nn.Module, int]:
        """Resampling stage of one level and its output width."""
        if scale == 4.:
            return nn.Sequential(
                nn.ConvTranspose2d(channels, channels // 2, 2, stride=2),
                build_norm_layer(norm_cfg, channels // 2)[1], nn.GELU(),
                nn.ConvTranspose2d(channels // 2, channels // 4, 2,
                                   stride=2)), channels // 4
        if scale == 2.:
            return nn.ConvTranspose2d(
                channels, channels // 2, 2, stride=2), channels // 2
        if scale == 1.:
            return nn.Identity(), channels
        if scale == .5:
            return nn.MaxPool2d(2, stride=2), channels
        raise ValueError(f'scale factor {scale} is not one of 4, 2, 1, 0.5')

    def forward(self, inputs: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Build the pyramid.

        Args:
            inputs (tuple[torch.Tensor]): The backbone output; its last map,
                of shape (B, C, H, W), is used.

        Returns:
            tuple[torch.Tensor]: ``num_outs`` maps, the ``i``-th of shape
            (B, out_channels, H * s_i, W * s_i), then the extra levels,
            each half the size of the previous one.
        """
        x = inputs[-1]
        outs = [
            output_conv(lateral_conv(sampler(x)))
            for sampler, lateral_conv, output_conv in zip(
                self.samplers, self.lateral_convs, self.output_convs)
        ]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], kernel_size=1, stride=2))
        return tuple(outs)
