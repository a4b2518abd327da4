# Copyright (c) mmsim contributors. All rights reserved.
from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp

from ...hosts import host
from ...layers import (counted_visible_indices, gather_tokens,
                       grid_sincos_pos_embed)

#: Choices of :class:`SIMViT`'s ``linear_init``.
LINEAR_INITS = ('xavier_uniform', 'trunc_normal')


@host().MODELS.register_module()
class SIMViT(host().VisionTransformer):
    """Vision Transformer for Siamese Image Modeling pre-training.

    `Siamese Image Modeling for Self-Supervised Vision Representation
    Learning <https://arxiv.org/abs/2206.01204>`_ (CVPR 2023).

    The host's ``VisionTransformer`` (mmcls's or mmpretrain's: the same
    state-dict keys, so its weights load into mmcls, mmpretrain and mmdet
    ViTs by prefix, and a checkpoint of one host into the other) that

    - drops the masked tokens of its input before the first block,
    - adds a fixed 2-D sin-cos position embedding (a buffer, never
      optimised; zeros for the cls token),
    - keeps its patch embedding frozen at the random init by default,
    - has no final norm in pre-training,
    - computes attention with torch's fused kernel (where torch has one).

    Args:
        arch (str | dict): mmcls / mmpretrain ViT arch, e.g. ``'b'``,
            ``'l'``, or a dict with embed_dims, num_layers, num_heads,
            feedforward_channels.
            Defaults to ``'b'``.
        img_size (int): Input side; must be divisible by ``patch_size``.
            Defaults to 224.
        patch_size (int): Patch side. Defaults to 16.
        drop_path_rate (float): Stochastic depth. Defaults to 0.
        norm_cfg (dict): Block norms. Defaults to LN with eps 1e-6.
        final_norm (bool): Final LayerNorm. Defaults to False (pre-training).
        frozen_patch_embed (bool): Keep the patch embedding at its init.
            Defaults to True.
        fused_attention (bool): Compute attention through
            :func:`~mmsim.layers.scaled_dot_product_attention`
            (torch's fused kernel on torch >= 2.0, plain operations on
            older torch) instead of mmcls's (mmpretrain's computes so
            already). Defaults to True.
        with_cp (bool): Activation checkpointing of the blocks (saves memory
            for a recompute). Defaults to False.
        linear_init (str): Init of the blocks' Linear weights:
            ``'xavier_uniform'`` (the authors' release's) or
            ``'trunc_normal'`` (std 0.02, as ViTDet's and mmcls's random
            init; not the release's: the CPU-sized configs use it because
            at their short schedules the xavier scale fine-tunes worse,
            docs/benchmarks/dense_transfer_log.md). Defaults to
            ``'xavier_uniform'``.
        init_cfg (dict | list, optional): Initialisation config.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'b',
                 img_size: int = 224,
                 patch_size: int = 16,
                 drop_path_rate: float = 0.,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 final_norm: bool = False,
                 frozen_patch_embed: bool = True,
                 fused_attention: bool = True,
                 with_cp: bool = False,
                 linear_init: str = 'xavier_uniform',
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if linear_init not in LINEAR_INITS:
            raise ValueError(f'SIMViT linear_init must be one of '
                             f'{LINEAR_INITS}, got {linear_init!r}')
        if not isinstance(img_size, int) or not isinstance(patch_size, int):
            raise TypeError('SIMViT takes square inputs: img_size and '
                            'patch_size must be ints, got '
                            f'{img_size!r} and {patch_size!r}')
        if patch_size <= 0 or img_size % patch_size != 0:
            raise ValueError(f'img_size={img_size} must be a positive '
                             f'multiple of patch_size={patch_size}')
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            drop_path_rate=drop_path_rate,
            norm_cfg=norm_cfg,
            final_norm=final_norm,
            init_cfg=init_cfg,
            **host().VIT_ALL_TOKENS)
        num_heads = self.arch_settings['num_heads']
        if self.embed_dims % num_heads != 0:
            raise ValueError(f'SIMViT arch: embed_dims={self.embed_dims} is '
                             f'not divisible by num_heads={num_heads}: each '
                             'head takes embed_dims / num_heads channels')
        if self.embed_dims % 4 != 0:
            raise ValueError('SIMViT needs embed_dims divisible by 4 for its '
                             f'sin-cos position embedding, got '
                             f'{self.embed_dims}')
        self.grid_size = img_size // patch_size
        # A fixed buffer instead of mmcls's Parameter: never optimised, but
        # saved in checkpoints under the same key.
        del self.pos_embed
        self.register_buffer(
            'pos_embed',
            grid_sincos_pos_embed(
                self.grid_size, self.embed_dims, cls_token=True)[None])
        self.frozen_patch_embed = frozen_patch_embed
        if frozen_patch_embed:
            self.patch_embed.requires_grad_(False)
        self.with_cp = with_cp
        self.linear_init = linear_init
        if fused_attention:
            host().fuse_attention(self.layers)

    def init_weights(self) -> None:
        """SIM's init (the release's): xavier-uniform Linear weights (or, with
        ``linear_init='trunc_normal'``, truncated normal std 0.02) with zero
        bias, unit LayerNorms, cls token N(0, 0.02), patch embedding
        xavier-uniform on its (D, 3 * p * p) view with PyTorch's default
        bias. A ``Pretrained`` init_cfg loads weights instead."""
        if isinstance(self.init_cfg, dict) and \
                self.init_cfg.get('type') == 'Pretrained':
            super().init_weights()
            return
        for module in self.modules():
            if isinstance(module, nn.Linear):
                if self.linear_init == 'trunc_normal':
                    nn.init.trunc_normal_(module.weight, std=.02)
                else:
                    nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        weight = self.patch_embed.projection.weight.data
        nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        nn.init.normal_(self.cls_token, std=.02)
        self._is_init = True

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                visible: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        """Encode the visible tokens of a batch of images.

        Args:
            x (torch.Tensor): Images of shape (B, 3, H, W) with H = W =
                ``img_size``.
            mask (torch.Tensor, optional): Bool (B, G, G) or (B, G * G),
                True = masked (dropped). Every sample must mask the same
                number K of patches; counted and checked on the host.
            visible (torch.Tensor, optional): Instead of ``mask``, the
                positions of the kept patches, long (B, G * G - K),
                increasing per row (see
                :func:`~mmsim.layers.visible_indices`): trusted, never read
                on the host (no device sync). None of both keeps all
                tokens.

        Returns:
            tuple[torch.Tensor]: Tokens of shape (B, 1 + G * G - K, D_e),
            cls first, then the visible patches in raster order.
        """
        if tuple(x.shape[-2:]) != tuple(self.img_size):
            raise ValueError(f'SIMViT was built for {self.img_size} inputs, '
                             f'got images of {tuple(x.shape[-2:])}')
        if mask is not None and visible is not None:
            raise ValueError('SIMViT takes a mask or the visible positions, '
                             'not both')
        batch = x.shape[0]
        tokens = self.patch_embed(x)[0] + self.pos_embed[:, 1:]
        if mask is not None:
            tokens = self.gather_visible(tokens, mask)
        elif visible is not None:
            tokens = gather_tokens(tokens, visible)
        cls_token = (self.cls_token + self.pos_embed[:, :1]).expand(
            batch, -1, -1)
        tokens = torch.cat([cls_token, tokens], dim=1)
        for layer in self.layers:
            if self.with_cp and tokens.requires_grad:
                tokens = cp.checkpoint(layer, tokens, use_reentrant=False)
            else:
                tokens = layer(tokens)
        if self.final_norm:
            tokens = self.norm1(tokens)
        return (tokens, )

    @staticmethod
    def gather_visible(tokens: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
        """Keep the unmasked tokens of every sample, in raster order.

        Counts them on the host (:func:`~mmsim.layers.count_visible`) and
        checks that every sample keeps as many.

        Args:
            tokens (torch.Tensor): Patch tokens of shape (B, N, C).
            mask (torch.Tensor): (B, N) or (B, G, G), nonzero = masked.

        Returns:
            torch.Tensor: Visible tokens of shape (B, V, C).
        """
        return gather_tokens(tokens,
                             counted_visible_indices(mask, tokens.shape[1]))
