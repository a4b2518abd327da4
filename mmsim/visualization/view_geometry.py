# Copyright (c) mmsim contributors. All rights reserved.
"""Where view-2 points land in view 1, in pixels, from SIM's ``rel_pos``.

Both views are ``S x S`` images. Pixel coordinates here are continuous
``(y, x)`` with ``(0, 0)`` the top-left corner of the top-left pixel, so the
centre of pixel ``(k, l)`` is ``(k + 0.5, l + 0.5)`` and the centre of patch
``(r, c)`` of a ``G x G`` grid is ``((r + 0.5) * S / G, (c + 0.5) * S / G)``.
The mapping is :func:`mmsim.geometry.decode_rel_pos` (the decoding the
model's cross-view position embedding E2 uses, there in units of view-1
patches minus 0.5), on one sample, in float64.
"""
from typing import Sequence, Union

import numpy as np
import torch

from ..geometry import decode_rel_pos

ArrayLike = Union[np.ndarray, torch.Tensor, Sequence[float]]


def _rel_pos_array(rel_pos: ArrayLike) -> np.ndarray:
    """``rel_pos`` as a float64 array of shape (6, ), checked."""
    if isinstance(rel_pos, torch.Tensor):
        rel_pos = rel_pos.detach().cpu().numpy()
    rel_pos = np.asarray(rel_pos, dtype=np.float64)
    if rel_pos.shape != (6, ):
        raise ValueError('rel_pos must hold the 6 numbers (delta_i, '
                         'delta_j, delta_h, delta_w, rel_flip, flip_delta_j)'
                         f', got shape {rel_pos.shape}')
    if rel_pos[2] <= 0 or rel_pos[3] <= 0:
        raise ValueError('rel_pos delta_h and delta_w must be positive, got '
                         f'{rel_pos[2]} and {rel_pos[3]}')
    return rel_pos


def patch_centres(grid_size: int, view_size: int) -> np.ndarray:
    """Pixel centres of the patches of one view, in raster order.

    Args:
        grid_size (int): Patches per side ``G``.
        view_size (int): Side ``S`` of the view in pixels.

    Returns:
        np.ndarray: float64 of shape (G * G, 2), ``(y, x)`` per patch; patch
        ``r * G + c`` is row ``r``, column ``c``.
    """
    if grid_size <= 0 or view_size <= 0:
        raise ValueError('grid_size and view_size must be positive, got '
                         f'{grid_size} and {view_size}')
    centres = (np.arange(grid_size) + 0.5) * view_size / grid_size
    ys, xs = np.meshgrid(centres, centres, indexing='ij')
    return np.stack([ys.ravel(), xs.ravel()], axis=1)


def view2_to_view1(points: ArrayLike, rel_pos: ArrayLike,
                   view_size: int) -> np.ndarray:
    """Map view-2 pixel positions into view-1 pixel positions.

    Args:
        points (np.ndarray | torch.Tensor): Shape (N, 2), ``(y, x)`` in
            view-2 pixels.
        rel_pos (np.ndarray | torch.Tensor): Shape (6, ), view 2 relative
            to view 1 as packed by ``SIMTwoViewCrop``.
        view_size (int): Side ``S`` of both views in pixels.

    Returns:
        np.ndarray: float64 of shape (N, 2), ``(y, x)`` in view-1 pixels;
        may lie outside ``[0, S]`` where the views do not overlap.
    """
    rel_pos = _rel_pos_array(rel_pos)
    if isinstance(points, torch.Tensor):
        points = points.detach().cpu().numpy()
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError('points must have shape (N, 2) as (y, x), got '
                         f'{points.shape}')
    ys, xs = decode_rel_pos(rel_pos, points[:, 0], points[:, 1], view_size)
    return np.stack([ys, xs], axis=1)


def view2_patch_centres_in_view1(rel_pos: ArrayLike, grid_size: int,
                                 view_size: int) -> np.ndarray:
    """Where the centre of every view-2 patch lies in view 1.

    Args:
        rel_pos (np.ndarray | torch.Tensor): Shape (6, ).
        grid_size (int): Patches per side ``G``.
        view_size (int): Side ``S`` of both views in pixels.

    Returns:
        np.ndarray: float64 of shape (G * G, 2), ``(y, x)`` in view-1
        pixels, in view 2's raster order.
    """
    return view2_to_view1(
        patch_centres(grid_size, view_size), rel_pos, view_size)


def view2_outline_in_view1(rel_pos: ArrayLike, view_size: int) -> np.ndarray:
    """The corners of view 2 in view-1 pixels (its footprint).

    Args:
        rel_pos (np.ndarray | torch.Tensor): Shape (6, ).
        view_size (int): Side ``S`` of both views in pixels.

    Returns:
        np.ndarray: float64 of shape (4, 2), ``(y, x)`` of view 2's
        top-left, top-right, bottom-right and bottom-left corners.
    """
    size = float(view_size)
    corners = np.array([[0., 0.], [0., size], [size, size], [size, 0.]])
    return view2_to_view1(corners, rel_pos, view_size)
