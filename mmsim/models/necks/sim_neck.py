# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ...hosts import host
from ...layers import grid_sincos_pos_embed, relative_sincos_pos_embed
from ...layers.transformer_layers import build_transformer_layers


class SIMProjector(nn.Module):
    """Linear(D_e -> D) then P transformer blocks; shared by both branches.

    Args:
        in_channels (int): Encoder width ``D_e``.
        embed_dims (int): Projector width ``D``.
        num_layers (int): Blocks ``P``.
        num_heads (int): Attention heads.
        mlp_ratio (float): FFN width ratio.
        norm_cfg (dict): Block norm config.
        fused_attention (bool): Use torch's fused attention.
    """

    def __init__(self, in_channels: int, embed_dims: int, num_layers: int,
                 num_heads: int, mlp_ratio: float, norm_cfg: dict,
                 fused_attention: bool) -> None:
        super().__init__()
        self.embed = nn.Linear(in_channels, embed_dims)
        self.blocks = build_transformer_layers(num_layers, embed_dims,
                                               num_heads, mlp_ratio, norm_cfg,
                                               fused_attention)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Project encoder tokens (B, L, D_e) to (B, L, D)."""
        tokens = self.embed(tokens)
        for block in self.blocks:
            tokens = block(tokens)
        return tokens


class SIMPredictor(nn.Module):
    """Q transformer blocks over [cls, visible view-1, view-2 queries].

    Args:
        embed_dims (int): Width ``D``.
        num_layers (int): Blocks ``Q``.
        num_heads (int): Attention heads.
        mlp_ratio (float): FFN width ratio.
        norm_cfg (dict): Block norm config.
        fused_attention (bool): Use torch's fused attention.
    """

    def __init__(self, embed_dims: int, num_layers: int, num_heads: int,
                 mlp_ratio: float, norm_cfg: dict,
                 fused_attention: bool) -> None:
        super().__init__()
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_mlp = nn.Linear(2 * embed_dims, embed_dims)
        self.blocks = build_transformer_layers(num_layers, embed_dims,
                                               num_heads, mlp_ratio, norm_cfg,
                                               fused_attention)
        self.pred = nn.Linear(embed_dims, embed_dims)

    def forward(self, context: torch.Tensor,
                query_pos: torch.Tensor) -> torch.Tensor:
        """Predict one feature per query position.

        Args:
            context (torch.Tensor): cls + visible view-1 tokens with their
                position embeddings added, shape (B, 1 + V, D).
            query_pos (torch.Tensor): E2 of the view-2 patches, shape
                (B, Q, 2D).

        Returns:
            torch.Tensor: Predictions of shape (B, Q, D).
        """
        queries = self.mask_token + self.pos_mlp(query_pos)
        tokens = torch.cat([context, queries], dim=1)
        for block in self.blocks:
            tokens = block(tokens)
        return self.pred(tokens[:, -query_pos.shape[1]:])


@host().MODELS.register_module()
class SIMNeck(BaseModule):
    """Projector and cross-view predictor of SIM.

    `Siamese Image Modeling <https://arxiv.org/abs/2206.01204>`_: the
    online branch's decoder. Online branch::

        h    = projector(encoder tokens of view 1)           (B, 1 + V, D)
        ctx  = [h_cls + 0, h_visible + E1(visible positions)]
        pred = predictor(ctx, E2(view-2 patches from rel_pos))  (B, G*G, D)

    The momentum target runs its own EMA copy of the modules named by
    :meth:`target_modules` (the projector, kept by ``SIM.target``) on all
    of view 2's tokens.

    Args:
        in_channels (int): Encoder width ``D_e``. Defaults to 768.
        embed_dims (int): Projector/predictor width ``D``; divisible by 4.
            Defaults to 768 (release recipe).
        grid_size (int): Patches per side ``G``. Defaults to 14.
        num_projector_layers (int): ``P``. Defaults to 2.
        num_predictor_layers (int): ``Q``. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 16.
        mlp_ratio (float): FFN width ratio. Defaults to 4.
        norm_cfg (dict): Block norms: ``dict(type='SIMTokenBN')`` (fp32,
            synced BatchNorm over all tokens; default, the paper's best) or
            ``dict(type='LN', eps=1e-6)``.
        fused_attention (bool): Use torch's fused attention. Defaults to
            True.
        init_cfg (dict | list, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 768,
                 embed_dims: int = 768,
                 grid_size: int = 14,
                 num_projector_layers: int = 2,
                 num_predictor_layers: int = 4,
                 num_heads: int = 16,
                 mlp_ratio: float = 4.,
                 norm_cfg: dict = dict(type='SIMTokenBN'),
                 fused_attention: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims <= 0 or embed_dims % 4 != 0:
            raise ValueError('SIMNeck embed_dims must be a positive multiple '
                             f'of 4 (sin-cos embeddings), got {embed_dims}')
        if num_heads <= 0 or embed_dims % num_heads != 0:
            raise ValueError(f'SIMNeck embed_dims={embed_dims} is not '
                             f'divisible by num_heads={num_heads} (the '
                             'projector and predictor heads)')
        if num_projector_layers < 0 or num_predictor_layers < 1:
            raise ValueError(
                'SIMNeck needs num_projector_layers >= 0 and '
                'num_predictor_layers >= 1 (without a predictor block the '
                'predictions never see view 1), got '
                f'{num_projector_layers} and {num_predictor_layers}')
        if not mlp_ratio > 0:
            raise ValueError('SIMNeck mlp_ratio is the FFN width over '
                             f'embed_dims (e.g. 4), got {mlp_ratio}')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.grid_size = grid_size
        self.projector = SIMProjector(in_channels, embed_dims,
                                      num_projector_layers, num_heads,
                                      mlp_ratio, norm_cfg, fused_attention)
        self.predictor = SIMPredictor(embed_dims, num_predictor_layers,
                                      num_heads, mlp_ratio, norm_cfg,
                                      fused_attention)
        # E1 is fixed: cached once, not saved in checkpoints.
        self.register_buffer(
            'grid_pos_embed',
            grid_sincos_pos_embed(grid_size, embed_dims),
            persistent=False)

    def init_weights(self) -> None:
        """Xavier-uniform Linear weights, zero biases, mask token N(0, .02),
        unit norms; or a ``Pretrained`` init_cfg."""
        if self.init_cfg is not None:
            super().init_weights()
            return
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        nn.init.normal_(self.predictor.mask_token, std=.02)
        self._is_init = True

    def target_modules(self) -> Dict[str, nn.Module]:
        """The modules of this neck that SIM's momentum target averages.

        Returns:
            dict[str, nn.Module]: Name in the target (its state-dict prefix
            ``target.module.<name>.``) -> online module: the projector,
            which the target runs on view 2.
        """
        return dict(projector=self.projector)

    def forward(self, tokens: torch.Tensor, visible: torch.Tensor,
                rel_pos: torch.Tensor) -> torch.Tensor:
        """Predict view 2's dense target features from view 1.

        Args:
            tokens (torch.Tensor): Encoder output for view 1: cls + visible
                tokens, shape (B, 1 + V, D_e).
            visible (torch.Tensor): Long (B, V): the grid positions of
                those V visible tokens, raster order, as the encoder kept
                them (:func:`~mmsim.layers.visible_indices`).
            rel_pos (torch.Tensor): View-2 geometry, shape (B, 6).

        Returns:
            torch.Tensor: Predictions of shape (B, G * G, D).
        """
        if visible.shape != (tokens.shape[0], tokens.shape[1] - 1):
            raise ValueError(
                f'visible has shape {tuple(visible.shape)}, expected '
                f'{(tokens.shape[0], tokens.shape[1] - 1)}: the positions '
                'of the encoder\'s visible tokens (cls excluded)')
        projected = self.projector(tokens)
        visible_pos = self.grid_pos_embed.to(projected.dtype)[visible]
        context = torch.cat([projected[:, :1], projected[:, 1:] + visible_pos],
                            dim=1)
        query_pos = relative_sincos_pos_embed(rel_pos, self.grid_size,
                                              self.embed_dims)
        return self.predictor(context, query_pos)
