# Copyright (c) mmsim contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch

from mmsim.layers import grid_sincos_pos_embed, relative_sincos_pos_embed


def naive_omega(dim):
    quarter = dim // 4
    return [10000**(-k / quarter) for k in range(quarter)]


def naive_e1(grid, dim):
    omega = naive_omega(dim)
    rows = []
    for r in range(grid):
        for c in range(grid):
            rows.append([math.sin(r * w)
                         for w in omega] + [math.cos(r * w) for w in omega] +
                        [math.sin(c * w)
                         for w in omega] + [math.cos(c * w) for w in omega])
    return np.array(rows)


def naive_e2(rel_pos, grid, dim):
    omega = naive_omega(dim)
    d_i, d_j, d_h, d_w, flip, flip_d_j = [float(v) for v in rel_pos]
    rows = []
    for r in range(grid):
        for c in range(grid):
            y = d_h * (r + 0.5) + d_i * grid - 0.5
            if flip > 0.5:
                x = -d_w * (c + 0.5) + flip_d_j * grid - 0.5
            else:
                x = d_w * (c + 0.5) + d_j * grid - 0.5
            row = []
            for v in (y, x, 10 * math.log(d_h), 10 * math.log(d_w)):
                row += [math.sin(v * w) for w in omega]
                row += [math.cos(v * w) for w in omega]
            rows.append(row)
    return np.array(rows)


def random_rel_pos(batch, generator):
    rel = torch.rand(batch, 6, generator=generator, dtype=torch.float64)
    rel[:, :2] = rel[:, :2] * 2 - 1
    rel[:, 2:4] = 0.3 + 2 * rel[:, 2:4]
    rel[:, 4] = (rel[:, 4] > 0.5).double()
    rel[:, 5] = rel[:, 5] * 3 - 1
    return rel


@pytest.mark.parametrize('grid,dim', [(14, 768), (5, 16), (7, 32)])
def test_grid_embed_matches_formula(grid, dim):
    embed = grid_sincos_pos_embed(grid, dim)
    assert embed.shape == (grid * grid, dim)
    assert embed.dtype == torch.float32
    np.testing.assert_allclose(embed.numpy(), naive_e1(grid, dim), atol=1e-5)
    with_cls = grid_sincos_pos_embed(grid, dim, cls_token=True)
    assert with_cls.shape == (grid * grid + 1, dim)
    assert torch.all(with_cls[0] == 0)
    assert torch.equal(with_cls[1:], embed)


@pytest.mark.parametrize('grid,dim', [(14, 768), (4, 16), (6, 64)])
def test_relative_embed_matches_formula_for_random_geometry(grid, dim):
    rel = random_rel_pos(5, torch.Generator().manual_seed(grid + dim))
    embed = relative_sincos_pos_embed(rel.float(), grid, dim)
    assert embed.shape == (5, grid * grid, 2 * dim)
    for b in range(5):
        np.testing.assert_allclose(
            embed[b].numpy(), naive_e2(rel[b], grid, dim), atol=2e-5)


def test_relative_embed_of_identical_views_is_grid_embed():
    grid, dim = 14, 768
    rel = torch.tensor([[0., 0., 1., 1., 0., 0.]])
    embed = relative_sincos_pos_embed(rel, grid, dim)[0]
    torch.testing.assert_close(
        embed[:, :dim], grid_sincos_pos_embed(grid, dim), atol=1e-6, rtol=0)
    quarter = dim // 4
    scale_part = embed[:, dim:].reshape(-1, 2, 2, quarter)
    assert torch.all(scale_part[:, :, 0] == 0)  # sin(10 ln 1) = 0
    assert torch.all(scale_part[:, :, 1] == 1)  # cos(0) = 1


def test_relative_flip_mirrors_columns():
    grid, dim = 6, 32
    d_i, d_j, d_h, d_w, flip_d_j = 0.1, -0.2, 0.7, 1.3, 0.9
    flipped = relative_sincos_pos_embed(
        torch.tensor([[d_i, d_j, d_h, d_w, 1., flip_d_j]]), grid, dim)
    plain_equiv = relative_sincos_pos_embed(
        torch.tensor([[d_i, flip_d_j - d_w, d_h, d_w, 0., 0.]]), grid, dim)
    plain_same = relative_sincos_pos_embed(
        torch.tensor([[d_i, d_j, d_h, d_w, 0., flip_d_j]]), grid, dim)
    x_part = slice(dim // 2, dim)
    flipped = flipped[0].reshape(grid, grid, -1)[..., x_part]
    mirrored = plain_equiv[0].reshape(grid, grid, -1).flip(1)[..., x_part]
    torch.testing.assert_close(flipped, mirrored, atol=1e-5, rtol=0)
    wrong = plain_same[0].reshape(grid, grid, -1).flip(1)[..., x_part]
    assert not torch.allclose(flipped, wrong, atol=1e-3)


def _decode_lowest_frequency(embed, dim, offset):
    """Read a coordinate back from its lowest-frequency sin/cos pair."""
    quarter = dim // 4
    omega = 10000**(-(quarter - 1) / quarter)
    sin = embed[..., offset + quarter - 1]
    cos = embed[..., offset + 2 * quarter - 1]
    return torch.atan2(sin, cos) / omega


@pytest.mark.parametrize('flip_1,flip_2', [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_relative_embed_points_at_view2_patch_centres(flip_1, flip_2):
    """Simulate two crops of one image and check where E2 says each view-2
    patch centre lies in view 1, against plain geometry."""
    grid, dim, width = 7, 64, 500.
    boxes = [(40., 60., 200., 240.), (90., 10., 150., 330.)]  # i, j, h, w
    (i1, j1, h1, w1), (i2, j2, h2, w2) = boxes
    rel = torch.tensor([[(i2 - i1) / h1, (j2 - j1) / w1, h2 / h1, w2 / w1,
                         float(flip_1 ^ flip_2), (width - j1 - j2) / w1]])
    embed = relative_sincos_pos_embed(rel, grid, dim)[0]
    ys = _decode_lowest_frequency(embed, dim, 0).reshape(grid, grid)
    xs = _decode_lowest_frequency(embed, dim, dim // 2).reshape(grid, grid)
    for r in range(grid):
        for c in range(grid):
            # view-2 patch centre in its own (maybe flipped) image
            y_img = i2 + (r + 0.5) * h2 / grid
            x_view2_img = j2 + (c + 0.5) * w2 / grid
            x_orig = width - x_view2_img if flip_2 else x_view2_img
            x_view1_img = width - x_orig if flip_1 else x_orig
            y_expected = (y_img - i1) / (h1 / grid) - 0.5
            x_expected = (x_view1_img - j1) / (w1 / grid) - 0.5
            assert abs(ys[r, c] - y_expected) < 2e-2
            assert abs(xs[r, c] - x_expected) < 2e-2


@pytest.mark.parametrize('dim', [6, 10, 0])
def test_embed_dim_must_be_divisible_by_four(dim):
    with pytest.raises(ValueError, match='divisible by 4'):
        grid_sincos_pos_embed(4, dim)
    with pytest.raises(ValueError, match='divisible by 4'):
        relative_sincos_pos_embed(torch.zeros(1, 6) + 1, 4, dim)


def test_relative_embed_rejects_bad_shape():
    with pytest.raises(ValueError, match=r'\(B, 6\)'):
        relative_sincos_pos_embed(torch.ones(2, 5), 4, 16)
