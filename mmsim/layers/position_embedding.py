# Copyright (c) mmsim contributors. All rights reserved.
"""Fixed sin-cos position embeddings of SIM.

E1 embeds a patch's (row, column) on the ``G x G`` grid; E2 embeds where a
view-2 patch lies in view 1 and at which scale (the cross-view position
embedding of `the SIM paper <https://arxiv.org/abs/2206.01204>`_), decoded
from ``rel_pos`` by :func:`mmsim.geometry.decode_rel_pos`.

mmselfsup's ``build_2d_sincos_position_embedding`` orders its channels as
(column, row) on a transposed grid; SIM's cross-view embedding E2 must share
its first ``D`` channels with E1 in (row, column) order, so both are built
here from the same frequency table.
"""
import torch

from ..geometry import decode_rel_pos


def _check_embed_dim(embed_dim: int) -> None:
    if embed_dim <= 0 or embed_dim % 4 != 0:
        raise ValueError('sin-cos position embeddings need an embed_dim '
                         f'divisible by 4, got embed_dim={embed_dim}')


def sincos_frequencies(embed_dim: int,
                       device: torch.device = None) -> torch.Tensor:
    """Frequencies ``omega_k = 10000 ** (-k / (D / 4))``, k < D / 4.

    Args:
        embed_dim (int): Embedding width ``D``; must be divisible by 4.
        device (torch.device, optional): Device of the result.

    Returns:
        torch.Tensor: Float32 tensor of shape (D / 4, ).
    """
    _check_embed_dim(embed_dim)
    quarter = embed_dim // 4
    k = torch.arange(quarter, dtype=torch.float64, device=device)
    return (10000.0**(-k / quarter)).float()


def _sincos(values: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """``[sin(v * omega), cos(v * omega)]`` of shape (..., 2 * len(omega))."""
    angles = values.unsqueeze(-1) * omega
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def grid_sincos_pos_embed(grid_size: int,
                          embed_dim: int,
                          cls_token: bool = False) -> torch.Tensor:
    """E1: the 2-D sin-cos embedding of a ``G x G`` patch grid.

    The patch in row ``r`` and column ``c`` (token ``r * G + c``) gets
    ``[sin(r w), cos(r w), sin(c w), cos(c w)]``; the cls token gets zeros.

    Args:
        grid_size (int): Patches per side ``G``.
        embed_dim (int): Width ``D``; must be divisible by 4.
        cls_token (bool): Prepend a zero row for the cls token.
            Defaults to False.

    Returns:
        torch.Tensor: Float32 tensor of shape (G * G [+ 1], D).
    """
    if grid_size <= 0:
        raise ValueError(f'grid_size must be positive, got {grid_size}')
    omega = sincos_frequencies(embed_dim)
    coords = torch.arange(grid_size, dtype=torch.float32)
    rows = coords.repeat_interleave(grid_size)
    cols = coords.repeat(grid_size)
    embed = torch.cat([_sincos(rows, omega), _sincos(cols, omega)], dim=-1)
    if cls_token:
        embed = torch.cat([embed.new_zeros(1, embed_dim), embed], dim=0)
    return embed


def relative_sincos_pos_embed(rel_pos: torch.Tensor, grid_size: int,
                              embed_dim: int) -> torch.Tensor:
    """E2: where each view-2 patch lies in view 1, as sin-cos features.

    For the view-2 patch in row ``r``, column ``c`` and the six numbers
    ``(di, dj, dh, dw, flip, fdj)`` of :mod:`mmsim.geometry.rel_pos`::

        y  = dh * (r + 0.5) + di * G - 0.5
        x  = dw * (c + 0.5) + dj * G - 0.5      (no relative flip)
        x  = -dw * (c + 0.5) + fdj * G - 0.5    (relative flip)
        E2 = [sincos(y), sincos(x), sincos(10 ln dh), sincos(10 ln dw)]

    so ``y`` and ``x`` are the patch centre in units of view-1 patches
    (:func:`~mmsim.geometry.decode_rel_pos` on a ``G``-unit view), minus
    0.5 so that patch ``(r, c)`` of view 1 sits at ``(r, c)`` as in E1.

    Args:
        rel_pos (torch.Tensor): Geometry of shape (B, 6), in the order
            (delta_i, delta_j, delta_h, delta_w, rel_flip, flip_delta_j).
        grid_size (int): Patches per side ``G``.
        embed_dim (int): Width ``D``; must be divisible by 4.

    Returns:
        torch.Tensor: Float32 tensor of shape (B, G * G, 2 * D).
    """
    if rel_pos.dim() != 2 or rel_pos.shape[1] != 6:
        raise ValueError('rel_pos must have shape (B, 6), got '
                         f'{tuple(rel_pos.shape)}')
    omega = sincos_frequencies(embed_dim, device=rel_pos.device)
    rel_pos = rel_pos.float()
    centres = torch.arange(
        grid_size, dtype=torch.float32, device=rel_pos.device) + 0.5
    # (B, G): view 1 coordinates of view 2's row and column centres.
    ys, xs = decode_rel_pos(rel_pos[:, None], centres, centres, grid_size)
    ys, xs = ys - 0.5, xs - 0.5
    batch = rel_pos.shape[0]
    y_embed = _sincos(ys, omega)  # (B, G, D/2)
    x_embed = _sincos(xs, omega)  # (B, G, D/2)
    grid_embed = torch.cat([
        y_embed[:, :, None].expand(-1, -1, grid_size, -1),
        x_embed[:, None].expand(-1, grid_size, -1, -1)
    ],
                           dim=-1).reshape(batch, grid_size * grid_size,
                                           embed_dim)
    d_h, d_w = rel_pos[:, 2], rel_pos[:, 3]
    scale_embed = torch.cat(
        [_sincos(10 * d_h.log(), omega),
         _sincos(10 * d_w.log(), omega)],
        dim=-1)  # (B, D)
    scale_embed = scale_embed[:, None].expand(-1, grid_size * grid_size, -1)
    return torch.cat([grid_embed, scale_embed], dim=-1)
