# Copyright (c) mmsim contributors. All rights reserved.
"""One ``rel_pos`` geometry: encoded by the crop, decoded alike by the
model's position embedding (torch, patches) and the pictures (numpy,
pixels)."""
import numpy as np
import pytest
import torch

from mmsim.geometry import REL_POS_FIELDS, decode_rel_pos, encode_rel_pos
from mmsim.layers import relative_sincos_pos_embed, sincos_frequencies
from mmsim.visualization import patch_centres, view2_to_view1

WIDTH = 240
BOX_1, BOX_2 = (20, 30, 120, 150), (50, 100, 90, 110)


def test_encode_gives_the_six_numbers():
    rel_pos = encode_rel_pos(BOX_1, True, BOX_2, False, WIDTH)
    assert rel_pos.dtype == np.float32 and rel_pos.shape == (6, )
    assert len(REL_POS_FIELDS) == 6
    np.testing.assert_allclose(rel_pos,
                               [(50 - 20) / 120,
                                (100 - 30) / 150, 90 / 120, 110 / 150, 1.,
                                (WIDTH - 30 - 100) / 150])
    same = encode_rel_pos(BOX_1, True, BOX_1, True, WIDTH)
    np.testing.assert_allclose(same[:5], [0, 0, 1, 1, 0])


@pytest.mark.parametrize('flip_1', [False, True])
@pytest.mark.parametrize('flip_2', [False, True])
def test_decode_follows_the_boxes(flip_1, flip_2):
    """A view-2 point, followed back through its crop box to the image
    and into view 1, lands where the decoding says."""
    size = 64.
    rel_pos = encode_rel_pos(BOX_1, flip_1, BOX_2, flip_2, WIDTH)
    v = np.array([0., 10.5, 64.])
    u = np.array([3., 60., 0.])
    (i1, j1, h1, w1), (i2, j2, h2, w2) = BOX_1, BOX_2
    cols = j2 + u * w2 / size  # in view 2's flipped-or-not image
    cols = WIDTH - cols if flip_2 else cols
    cols = WIDTH - cols if flip_1 else cols
    y1, x1 = decode_rel_pos(rel_pos.astype(np.float64), v, u, size)
    np.testing.assert_allclose(
        y1, (i2 + v * h2 / size - i1) / h1 * size, atol=1e-4)
    np.testing.assert_allclose(x1, (cols - j1) / w1 * size, atol=1e-4)


def test_numpy_and_torch_decode_alike_with_broadcasting():
    gen = torch.Generator().manual_seed(0)
    rel_pos = torch.rand(5, 6, generator=gen, dtype=torch.float64) + 0.2
    rel_pos[:, 4] = torch.tensor([0., 1., 0., 1., 1.])
    coords = torch.arange(7, dtype=torch.float64) + 0.5
    ys, xs = decode_rel_pos(rel_pos[:, None], coords, coords, 7)
    assert isinstance(ys, torch.Tensor) and ys.shape == xs.shape == (5, 7)
    for b in range(5):
        y_np, x_np = decode_rel_pos(rel_pos[b].numpy(), coords.numpy(),
                                    coords.numpy(), 7)
        np.testing.assert_array_equal(y_np, ys[b].numpy())
        np.testing.assert_array_equal(x_np, xs[b].numpy())


@pytest.mark.parametrize('flip', [0., 1.])
def test_model_and_pictures_place_view2_patches_alike(flip):
    """E2's (y, x) (the model, in view-1 patches minus 0.5) and the
    pictures' pixel positions of view 2's patch centres are one mapping."""
    grid, dim, size = 4, 16, 64
    rel_pos = torch.tensor([[0.1, -0.2, 0.7, 1.3, flip, 0.9]])
    embed = relative_sincos_pos_embed(rel_pos, grid, dim)[0].double()
    pixels = view2_to_view1(patch_centres(grid, size), rel_pos[0], size)
    in_patches = torch.from_numpy(pixels / (size / grid) - 0.5)
    angles = in_patches[:, :, None] * sincos_frequencies(dim).double()
    expected = torch.cat([
        angles[:, 0].sin(), angles[:, 0].cos(), angles[:, 1].sin(),
        angles[:, 1].cos()
    ],
                         dim=1)
    torch.testing.assert_close(embed[:, :dim], expected, atol=1e-5, rtol=0)
