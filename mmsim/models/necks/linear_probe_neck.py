# Copyright (c) mmsim contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ...hosts import host


@host().MODELS.register_module()
class LinearProbeNeck(BaseModule):
    """Pooled, normalised feature of the SIM / MAE linear probe.

    `Siamese Image Modeling for Self-Supervised Vision Representation
    Learning <https://arxiv.org/abs/2206.01204>`_ (its linear-probe
    protocol, as in MAE): global average of the patch tokens -> LayerNorm
    frozen at weight 1 / bias 0 -> BatchNorm without affine parameters; a
    linear head follows.

    The toolboxes lack this: mmcls's ``VisionTransformer(avg_token=True)``
    pools, but through a *learnable* LayerNorm (``ln2``) that
    ``frozen_stages`` does not freeze, and mmselfsup's ``ClsBatchNormNeck``
    normalises the class token only. Here both norms have no parameters at
    all, which is a LayerNorm frozen at its init.

    Args:
        in_channels (int): Feature width C.
        eps (float): Epsilon of both norms. Defaults to 1e-6.
        init_cfg (dict | list, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 eps: float = 1e-6,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.ln = nn.LayerNorm(in_channels, eps=eps, elementwise_affine=False)
        self.bn = nn.BatchNorm1d(in_channels, eps=eps, affine=False)

    def forward(self,
                inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """Pool and normalise every backbone output.

        Args:
            inputs (Sequence[torch.Tensor]): Backbone outputs, each a
                (B, C, H, W) patch-token map (mmcls ``VisionTransformer``
                with ``output_cls_token=False, avg_token=False``) or an
                already pooled (B, C) feature.

        Returns:
            tuple[torch.Tensor]: (B, C) normalised features, one per input.
        """
        outs = []
        for feat in inputs:
            if not isinstance(feat, torch.Tensor) or feat.dim() not in (2, 4):
                shape = tuple(feat.shape) if isinstance(
                    feat, torch.Tensor) else type(feat).__name__
                raise ValueError(
                    'LinearProbeNeck expects (B, C, H, W) patch maps or '
                    f'(B, C) features, got {shape}; build the mmcls '
                    'VisionTransformer with output_cls_token=False, '
                    'avg_token=False')
            if feat.shape[1] != self.in_channels:
                raise ValueError(f'LinearProbeNeck(in_channels='
                                 f'{self.in_channels}) got {feat.shape[1]} '
                                 'channels')
            if feat.dim() == 4:
                feat = feat.mean(dim=(2, 3))
            outs.append(self.bn(self.ln(feat)))
        return tuple(outs)
