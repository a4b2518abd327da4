# Copyright (c) mmsim contributors. All rights reserved.
"""``rel_pos``: where SIM's view 2 lies in view 1, encoded and decoded.

SIM's predictor is told where every view-2 patch lies in view 1 through a
cross-view position embedding (`the SIM paper
<https://arxiv.org/abs/2206.01204>`_, its relative-position embedding).
The two-view crop encodes that geometry as six numbers per sample
(:func:`encode_rel_pos`); the model's position embedding E2 and the
pictures decode them with the same function (:func:`decode_rel_pos`).
Host-free: numpy and torch only.

Encoding, for crop boxes ``(i, j, h, w)`` (top, left, height, width, in
pixels of each view's flipped-or-not copy of the image), flips
``flip_1``, ``flip_2`` and image width ``W``::

    delta_i      = (i2 - i1) / h1
    delta_j      = (j2 - j1) / w1
    delta_h      = h2 / h1
    delta_w      = w2 / w1
    rel_flip     = flip_1 XOR flip_2
    flip_delta_j = (W - j1 - j2) / w1

Decoding: with both views ``S`` units wide (pixels, or patches), the
view-2 point ``(v, u)`` lies in view 1 at::

    y1 = delta_i * S + delta_h * v
    x1 = delta_j * S + delta_w * u           (no relative flip)
    x1 = flip_delta_j * S - delta_w * u      (relative flip)

Coordinates are continuous, ``(0, 0)`` the top-left corner of the view.
"""
from typing import Tuple, TypeVar, Union

import numpy as np
import torch

#: The six numbers of ``rel_pos``, in order.
REL_POS_FIELDS = ('delta_i', 'delta_j', 'delta_h', 'delta_w', 'rel_flip',
                  'flip_delta_j')

#: A box ``(i, j, h, w)``: top, left, height and width in pixels.
CropBox = Tuple[int, int, int, int]

Array = TypeVar('Array', np.ndarray, torch.Tensor)


def encode_rel_pos(box_1: CropBox, flip_1: bool, box_2: CropBox, flip_2: bool,
                   width: int) -> np.ndarray:
    """The geometry of view 2 relative to view 1.

    Each box is in pixels of its own flipped-or-not copy of the image.

    Args:
        box_1 (Tuple[int, int, int, int]): ``(i1, j1, h1, w1)`` of view 1.
        flip_1 (bool): Whether view 1 was flipped horizontally.
        box_2 (Tuple[int, int, int, int]): ``(i2, j2, h2, w2)`` of view 2.
        flip_2 (bool): Whether view 2 was flipped horizontally.
        width (int): Image width ``W`` in pixels.

    Returns:
        np.ndarray: float32 of shape (6, ), in :data:`REL_POS_FIELDS`
        order.

    Examples:
        >>> encode_rel_pos((0, 0, 10, 10), False, (5, 0, 5, 10), False, 10)
        array([0.5, 0. , 0.5, 1. , 0. , 1. ], dtype=float32)
    """
    i1, j1, h1, w1 = box_1
    i2, j2, h2, w2 = box_2
    return np.array([(i2 - i1) / h1, (j2 - j1) / w1, h2 / h1, w2 / w1,
                     float(bool(flip_1) != bool(flip_2)),
                     (width - j1 - j2) / w1],
                    dtype=np.float32)


def decode_rel_pos(rel_pos: Array, ys: Union[Array, float], xs: Union[Array,
                                                                      float],
                   view_size: Union[int, float]) -> Tuple[Array, Array]:
    """Map view-2 coordinates into view 1.

    Works on numpy arrays and torch tensors alike (the result has the type
    of ``rel_pos``), with numpy / torch broadcasting between the fields of
    ``rel_pos`` and the coordinates.

    Args:
        rel_pos (np.ndarray | torch.Tensor): Geometry of shape (..., 6),
            e.g. (6, ) for one sample or (B, 1, 6) against (G, ) rows.
        ys (np.ndarray | torch.Tensor | float): View-2 rows ``v``,
            broadcastable with ``rel_pos[..., 0]``.
        xs (np.ndarray | torch.Tensor | float): View-2 columns ``u``,
            broadcastable with ``rel_pos[..., 0]``.
        view_size (int | float): ``S``, the views' side in the unit of
            ``ys`` and ``xs`` (pixels, or patches for a ``G x G`` grid).

    Returns:
        tuple: ``(y1, x1)`` in view 1, in the same unit; they may lie
        outside ``[0, S]`` where the views do not overlap.
    """
    d_i, d_j, d_h, d_w, flip, flip_d_j = (rel_pos[..., k] for k in range(6))
    y1 = d_i * view_size + d_h * ys
    x1_plain = d_j * view_size + d_w * xs
    x1_flip = flip_d_j * view_size - d_w * xs
    where = torch.where if isinstance(rel_pos, torch.Tensor) else np.where
    return y1, where(flip > 0.5, x1_flip, x1_plain)
