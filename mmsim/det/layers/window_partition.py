# Copyright (c) mmsim contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn.functional as F


def window_partition(x: torch.Tensor,
                     window_size: int) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """Cut a token map into non-overlapping square windows.

    The map is zero-padded at the bottom and right to a multiple of
    ``window_size`` first.

    Args:
        x (torch.Tensor): Tokens of shape (B, H, W, C).
        window_size (int): Window side ``w``.

    Returns:
        tuple: Windows of shape (B * nH * nW, w, w, C) and the padded size
        ``(Hp, Wp)``, with ``nH = Hp / w`` and ``nW = Wp / w``.
    """
    batch, height, width, channels = x.shape
    pad_h = (window_size - height % window_size) % window_size
    pad_w = (window_size - width % window_size) % window_size
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    padded_h, padded_w = height + pad_h, width + pad_w
    x = x.view(batch, padded_h // window_size, window_size,
               padded_w // window_size, window_size, channels)
    windows = x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window_size, window_size,
                                                  channels)
    return windows, (padded_h, padded_w)


def window_unpartition(windows: torch.Tensor, window_size: int,
                       padded_size: Tuple[int, int],
                       size: Tuple[int, int]) -> torch.Tensor:
    """Stitch windows back into a token map and drop the padding.

    Inverse of :func:`window_partition`.

    Args:
        windows (torch.Tensor): Windows of shape (B * nH * nW, w, w, C).
        window_size (int): Window side ``w``.
        padded_size (tuple[int, int]): ``(Hp, Wp)`` from the partition.
        size (tuple[int, int]): Original ``(H, W)``.

    Returns:
        torch.Tensor: Tokens of shape (B, H, W, C).
    """
    padded_h, padded_w = padded_size
    height, width = size
    num_h, num_w = padded_h // window_size, padded_w // window_size
    batch = windows.shape[0] // (num_h * num_w)
    x = windows.view(batch, num_h, num_w, window_size, window_size, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(batch, padded_h, padded_w, -1)
    if padded_h > height or padded_w > width:
        x = x[:, :height, :width].contiguous()
    return x
