# Copyright (c) mmsim contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks.transformer import PatchEmbed
from mmdet.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from ..layers import ViTDetLayer, pos_embed_grid, resize_pos_embed_grid


@MODELS.register_module()
class SIMViTDet(BaseModule):
    """Plain ViT backbone for detection, as in ViTDet, that loads SIM
    (and any mmcls ``VisionTransformer``) weights by prefix.

    `Exploring Plain Vision Transformer Backbones for Object Detection
    <https://arxiv.org/abs/2203.16527>`_, used by `Siamese Image Modeling
    <https://arxiv.org/abs/2206.01204>`_ for its COCO transfer.

    Data path: 16x16 patch embedding -> + absolute position embedding
    (stored at the pre-training grid, bicubically resized to the input's
    grid) -> blocks with windowed attention and a few global blocks, all
    with decomposed relative position bias -> the stride-16 map. No cls
    token, no final norm.

    State-dict keys equal mmcls ViT's for the tensors they share:
    ``pos_embed`` (1, 1 + G * G, C) (the cls row is kept but unused),
    ``patch_embed.projection.*``, ``layers.{i}.ln1|attn.qkv|attn.proj|ln2|
    ffn.layers.0.0|ffn.layers.1.*``; the extra ``layers.{i}.attn.rel_pos_h|
    rel_pos_w`` start at zero.

    Args:
        arch (str | dict): ``'b'``, ``'l'``, ``'h'`` or a dict with
            ``embed_dims``, ``num_layers``, ``num_heads``,
            ``feedforward_channels`` and optionally ``global_attn_indexes``.
            Defaults to ``'b'``.
        img_size (int | tuple[int, int]): Recipe input size; sizes the
            relative position tables of the global blocks. Defaults to 1024.
        patch_size (int): Patch side. Defaults to 16.
        in_channels (int): Image channels. Defaults to 3.
        pretrain_img_size (int): Pre-training input side; sizes the stored
            position embedding (``G = pretrain_img_size / patch_size``).
            Checkpoints with another square grid are resized when loaded.
            Defaults to 224.
        window_size (int): Window side of the windowed blocks. Defaults
            to 14.
        global_attn_indexes (Sequence[int], optional): Blocks with global
            attention. Defaults to the arch's (2, 5, 8, 11 for ViT-B).
        use_rel_pos (bool): Relative position bias. Defaults to True.
        qkv_bias (bool): Bias in the qkv projections. Defaults to True.
        drop_path_rate (float): Stochastic depth of the last block, linear
            from 0 at the first. Defaults to 0.1.
        norm_cfg (dict): Block norms. Defaults to LN with eps 1e-6.
        with_cp (bool): Gradient checkpointing of every block (saves
            activation memory for a second forward). Defaults to False.
        init_cfg (dict | list, optional): E.g. ``dict(type='Pretrained',
            checkpoint=PATH)`` with a checkpoint from
            ``tools/model_converters``.

    Examples:
        >>> model = SIMViTDet(arch=dict(embed_dims=64, num_layers=2,
        ...     num_heads=2, feedforward_channels=128), img_size=128,
        ...     window_size=4, global_attn_indexes=(1, ))
        >>> model(torch.rand(1, 3, 128, 96))[0].shape
        torch.Size([1, 64, 8, 6])
    """
    arch_zoo = {
        'b':
        dict(
            embed_dims=768,
            num_layers=12,
            num_heads=12,
            feedforward_channels=3072,
            global_attn_indexes=(2, 5, 8, 11)),
        'l':
        dict(
            embed_dims=1024,
            num_layers=24,
            num_heads=16,
            feedforward_channels=4096,
            global_attn_indexes=(5, 11, 17, 23)),
        'h':
        dict(
            embed_dims=1280,
            num_layers=32,
            num_heads=16,
            feedforward_channels=5120,
            global_attn_indexes=(7, 15, 23, 31)),
    }
    _arch_keys = {
        'embed_dims', 'num_layers', 'num_heads', 'feedforward_channels'
    }

    def __init__(self,
                 arch: Union[str, dict] = 'b',
                 img_size: Union[int, Tuple[int, int]] = 1024,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 pretrain_img_size: int = 224,
                 window_size: int = 14,
                 global_attn_indexes: Optional[Sequence[int]] = None,
                 use_rel_pos: bool = True,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.1,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 with_cp: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        arch = self._resolve_arch(arch)
        self.embed_dims = arch['embed_dims']
        self.num_layers = arch['num_layers']
        if global_attn_indexes is None:
            global_attn_indexes = arch.get('global_attn_indexes',
                                           self._spread(self.num_layers))
        bad = [i for i in global_attn_indexes if not 0 <= i < self.num_layers]
        if bad:
            raise ValueError(f'global_attn_indexes {bad} are outside the '
                             f'{self.num_layers} blocks')
        img_size = (img_size,
                    img_size) if isinstance(img_size, int) else img_size
        for side in (*img_size, pretrain_img_size):
            if side % patch_size != 0:
                raise ValueError(f'image size {side} is not a multiple of '
                                 f'patch_size={patch_size}')
        self.patch_size = patch_size
        self.global_attn_indexes = tuple(global_attn_indexes)
        self.pretrain_grid = pretrain_img_size // patch_size
        grid_size = (img_size[0] // patch_size, img_size[1] // patch_size)

        self.patch_embed = PatchEmbed(
            in_channels=in_channels,
            embed_dims=self.embed_dims,
            conv_type='Conv2d',
            kernel_size=patch_size,
            stride=patch_size,
            bias=True)
        self.pos_embed = nn.Parameter(
            torch.zeros(1, 1 + self.pretrain_grid**2, self.embed_dims))
        self._register_load_state_dict_pre_hook(self._resize_loaded_pos_embed)

        rates = torch.linspace(0, drop_path_rate, self.num_layers).tolist()
        self.layers = nn.ModuleList(
            ViTDetLayer(
                embed_dims=self.embed_dims,
                num_heads=arch['num_heads'],
                feedforward_channels=arch['feedforward_channels'],
                window_size=0 if i in
                self.global_attn_indexes else window_size,
                grid_size=grid_size,
                drop_path_rate=rates[i],
                qkv_bias=qkv_bias,
                use_rel_pos=use_rel_pos,
                norm_cfg=norm_cfg) for i in range(self.num_layers))
        self.with_cp = with_cp

    @classmethod
    def _resolve_arch(cls, arch: Union[str, dict]) -> dict:
        if isinstance(arch, str):
            if arch.lower() not in cls.arch_zoo:
                raise ValueError(f'unknown arch {arch!r}; choose from '
                                 f'{sorted(cls.arch_zoo)} or pass a dict')
            return cls.arch_zoo[arch.lower()]
        missing = cls._arch_keys - set(arch)
        if missing:
            raise ValueError(f'arch dict lacks {sorted(missing)}')
        return dict(arch)

    @staticmethod
    def _spread(num_layers: int) -> Tuple[int, ...]:
        """Last block of each quarter: (2, 5, 8, 11) for 12 blocks."""
        return tuple(
            sorted({(k + 1) * num_layers // 4 - 1
                    for k in range(4)} - {-1}))

    def init_weights(self) -> None:
        """Load a ``Pretrained`` init_cfg, or ViTDet's random init
        (truncated normal 0.02 for linear weights and the position
        embedding, zero biases); relative position tables stay zero."""
        pretrained = isinstance(self.init_cfg, dict) and \
            self.init_cfg.get('type') == 'Pretrained'
        if not pretrained and not self._is_init:
            trunc_normal_(self.pos_embed, std=.02)
            for module in self.layers.modules():
                if isinstance(module, nn.Linear):
                    trunc_normal_(module.weight, std=.02)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
                elif isinstance(module, nn.LayerNorm):
                    nn.init.ones_(module.weight)
                    nn.init.zeros_(module.bias)
        super().init_weights()

    def _resize_loaded_pos_embed(self, state_dict: dict, prefix: str, *args,
                                 **kwargs) -> None:
        """Resize a checkpoint's position embedding from its square grid
        to ``pretrain_grid`` (bicubic, cls row kept)."""
        key = prefix + 'pos_embed'
        if key not in state_dict:
            return
        loaded = state_dict[key]
        if loaded.shape == self.pos_embed.shape:
            return
        if loaded.dim() != 3 or loaded.shape[-1] != self.embed_dims:
            raise ValueError(f'{key} of shape {tuple(loaded.shape)} does not '
                             f'fit embed_dims={self.embed_dims}')
        old = pos_embed_grid(loaded.shape[1])
        grid = resize_pos_embed_grid(loaded[:, 1:],
                                     (self.pretrain_grid, self.pretrain_grid))
        state_dict[key] = torch.cat([loaded[:, :1], grid.flatten(1, 2)], dim=1)
        MMLogger.get_current_instance().info(
            f'Resized {key} from a {old}x{old} to a {self.pretrain_grid}x'
            f'{self.pretrain_grid} grid (bicubic)')

    def pos_embed_at(self, size: Tuple[int, int]) -> torch.Tensor:
        """The absolute position embedding on a token grid.

        Args:
            size (tuple[int, int]): Token grid ``(H, W)``.

        Returns:
            torch.Tensor: Embeddings of shape (1, H, W, C): the stored
            patch rows (cls row dropped) bicubically resized to the grid.
        """
        return resize_pos_embed_grid(self.pos_embed[:, 1:], size)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """Encode images into the stride-16 feature map.

        Args:
            x (torch.Tensor): Images of shape (B, 3, H, W).

        Returns:
            tuple[torch.Tensor]: One map of shape (B, C, H / 16, W / 16)
            (sizes rounded up).
        """
        tokens, size = self.patch_embed(x)
        tokens = tokens.view(x.shape[0], *size, self.embed_dims)
        tokens = tokens + self.pos_embed_at(size)
        for layer in self.layers:
            if self.with_cp and tokens.requires_grad:
                tokens = cp.checkpoint(layer, tokens, use_reentrant=False)
            else:
                tokens = layer(tokens)
        return (tokens.permute(0, 3, 1, 2).contiguous(), )
