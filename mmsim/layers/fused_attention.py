# Copyright (c) mmsim contributors. All rights reserved.
import torch
import torch.nn as nn
from mmcls.models.utils import MultiheadAttention

from .scaled_dot_product import scaled_dot_product_attention


class FusedMultiheadAttention(MultiheadAttention):
    """mmcls ``MultiheadAttention`` computed by torch's fused kernel.

    Same parameters and state-dict keys as mmcls's module (so checkpoints
    stay interchangeable with mmcls's ``VisionTransformer``); the softmax
    attention runs through :func:`scaled_dot_product_attention`: torch's
    ``F.scaled_dot_product_attention`` (flash / memory-efficient kernels on
    GPU, which mmcls 1.0 does not use) on torch >= 2.0, the same maths in
    plain operations on older torch. Falls back to mmcls's forward when a
    custom ``qk_scale`` is set, which the torch 2.0 kernel cannot express.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Self-attention.

        Args:
            x (torch.Tensor): Tokens of shape (B, N, C).

        Returns:
            torch.Tensor: Tokens of shape (B, N, C).
        """
        if self.scale != self.head_dims**-0.5:
            return super().forward(x)
        batch, num_tokens, _ = x.shape
        qkv = self.qkv(x).reshape(batch, num_tokens, 3, self.num_heads,
                                  self.head_dims).permute(2, 0, 3, 1, 4)
        dropout = self.attn_drop.p if self.training else 0.
        x = scaled_dot_product_attention(
            qkv[0], qkv[1], qkv[2], dropout_p=dropout)
        x = x.transpose(1, 2).reshape(batch, num_tokens, self.embed_dims)
        x = self.out_drop(self.gamma1(self.proj_drop(self.proj(x))))
        if self.v_shortcut:
            x = qkv[2].squeeze(1) + x
        return x


def fuse_attention(module: nn.Module) -> nn.Module:
    """Switch every mmcls ``MultiheadAttention`` inside ``module`` to
    :class:`FusedMultiheadAttention` in place (parameters untouched).

    Args:
        module (nn.Module): Any module, e.g. an mmcls VisionTransformer.

    Returns:
        nn.Module: The same module.
    """
    for child in module.modules():
        if type(child) is MultiheadAttention:
            child.__class__ = FusedMultiheadAttention
    return module
