# Copyright (c) mmsim contributors. All rights reserved.
import math
from typing import Tuple

import torch
import torch.nn.functional as F


def pos_embed_grid(num_tokens: int, has_cls_token: bool = True) -> int:
    """Side of the square patch grid a ViT position embedding covers.

    Args:
        num_tokens (int): Rows of the embedding.
        has_cls_token (bool): Whether the first row is the cls token's.
            Defaults to True.

    Returns:
        int: The grid side ``G`` with ``G * G`` patch rows.
    """
    num_patches = num_tokens - int(has_cls_token)
    side = math.isqrt(max(num_patches, 0))
    if num_patches <= 0 or side * side != num_patches:
        raise ValueError(
            f'a position embedding of {num_tokens} tokens (cls row: '
            f'{has_cls_token}) is not a square grid of patches')
    return side


def resize_pos_embed_grid(pos_embed: torch.Tensor,
                          size: Tuple[int, int]) -> torch.Tensor:
    """Bicubically resize a grid of absolute position embeddings.

    Args:
        pos_embed (torch.Tensor): Embeddings of shape (1, G * G, C) in
            raster order (no cls row).
        size (tuple[int, int]): Target grid ``(H, W)``.

    Returns:
        torch.Tensor: Embeddings of shape (1, H, W, C); the input reshaped
        (not interpolated) when ``(H, W) == (G, G)``.
    """
    side = pos_embed_grid(pos_embed.shape[1], has_cls_token=False)
    grid = pos_embed.reshape(1, side, side, -1)
    if tuple(size) == (side, side):
        return grid
    resized = F.interpolate(
        grid.permute(0, 3, 1, 2).float(),
        size=tuple(size),
        mode='bicubic',
        align_corners=False)
    return resized.permute(0, 2, 3, 1).to(pos_embed.dtype)
