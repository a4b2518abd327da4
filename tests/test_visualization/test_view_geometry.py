# Copyright (c) mmsim contributors. All rights reserved.
"""View-2 patch centres in view 1, against the crop boxes themselves."""
import random

import numpy as np
import pytest
import torch

from mmsim.datasets.transforms.two_view_crop import SIMTwoViewCrop
from mmsim.geometry import encode_rel_pos
from mmsim.visualization import (patch_centres, view2_outline_in_view1,
                                 view2_patch_centres_in_view1, view2_to_view1)

WIDTH, HEIGHT = 240, 200
BOX_1, BOX_2 = (20, 30, 120, 150), (50, 100, 90, 110)


def via_boxes(points, box_1, flip_1, box_2, flip_2, size):
    """Follow a view-2 pixel back to the original image, then into view 1."""
    i1, j1, h1, w1 = box_1
    i2, j2, h2, w2 = box_2
    rows = i2 + points[:, 0] * h2 / size
    cols = j2 + points[:, 1] * w2 / size  # in view 2's flipped-or-not image
    cols = WIDTH - cols if flip_2 else cols  # original image
    cols = WIDTH - cols if flip_1 else cols  # view 1's flipped-or-not image
    return np.stack([(rows - i1) / h1 * size, (cols - j1) / w1 * size], 1)


@pytest.mark.parametrize('flip_1', [False, True])
@pytest.mark.parametrize('flip_2', [False, True])
def test_patch_centres_match_the_boxes(flip_1, flip_2):
    size, grid = 64, 4
    rel_pos = encode_rel_pos(BOX_1, flip_1, BOX_2, flip_2, WIDTH)
    got = view2_patch_centres_in_view1(torch.from_numpy(rel_pos), grid, size)
    centres = patch_centres(grid, size)
    np.testing.assert_allclose(centres[:4, 1], [8, 24, 40, 56])
    np.testing.assert_allclose(centres[::4, 0], [8, 24, 40, 56])
    expected = via_boxes(centres, BOX_1, flip_1, BOX_2, flip_2, size)
    np.testing.assert_allclose(got, expected, atol=1e-3)
    # patch (0, 0) of view 2 lies left of patch (0, 3) in view 1 unless
    # exactly one of the views is flipped
    assert (got[0, 1] < got[3, 1]) == (flip_1 == flip_2)
    corners = view2_outline_in_view1(rel_pos, size)
    np.testing.assert_allclose(
        corners,
        via_boxes(
            np.array([[0., 0], [0, size], [size, size], [size, 0]]), BOX_1,
            flip_1, BOX_2, flip_2, size),
        atol=1e-3)


def test_same_view_maps_to_itself():
    rel_pos = encode_rel_pos(BOX_1, True, BOX_1, True, WIDTH)
    points = np.array([[0., 0.], [10.5, 60.], [64., 3.]])
    np.testing.assert_allclose(
        view2_to_view1(points, rel_pos, 64), points, atol=1e-4)


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match='6 numbers'):
        view2_to_view1(np.zeros((1, 2)), np.zeros(5), 64)
    with pytest.raises(ValueError, match='positive'):
        view2_to_view1(np.zeros((1, 2)), np.zeros(6), 64)
    with pytest.raises(ValueError, match=r'\(N, 2\)'):
        view2_to_view1(np.zeros(3), [0, 0, 1, 1, 0, 1], 64)


def bilinear(img, y, x):
    """Sample (H, W, C) ``img`` at continuous pixel position (y, x)."""
    y, x = y - 0.5, x - 0.5  # pixel centres at k + 0.5
    y0, x0 = int(np.floor(y)), int(np.floor(x))
    fy, fx = y - y0, x - x0
    img = img.astype(np.float64)
    return ((1 - fy) * (1 - fx) * img[y0, x0] +
            (1 - fy) * fx * img[y0, x0 + 1] + fy * (1 - fx) * img[y0 + 1, x0] +
            fy * fx * img[y0 + 1, x0 + 1])


def test_pipeline_views_agree_where_rel_pos_says():
    """On an image whose pixels hold their own (col, row), the pixel under
    each view-2 patch centre and the view-1 pixel at its mapped position
    come from the same place, for all four flip combinations."""
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    img = np.stack([cols, rows, np.zeros_like(rows)], -1).astype(np.uint8)
    size, grid = 64, 4
    crop = SIMTwoViewCrop(size=size, scale=(0.3, 1.), interpolation='bilinear')
    random.seed(1)
    seen = set()
    checked = 0
    for _ in range(60):
        out = crop(dict(img=img.copy()))
        view_1, view_2 = out['img']
        flips = tuple(
            bool(v[size // 2, -2, 0] < v[size // 2, 1, 0])
            for v in (view_1, view_2))
        seen.add(flips)
        centres = patch_centres(grid, size)
        mapped = view2_to_view1(centres, out['rel_pos'], size)
        for (y2, x2), (y1, x1) in zip(centres, mapped):
            if not (1 < y1 < size - 1 and 1 < x1 < size - 1):
                continue
            source = bilinear(view_2, y2, x2)[:2]
            found = bilinear(view_1, y1, x1)[:2]
            np.testing.assert_allclose(found, source, atol=1.5)
            checked += 1
    assert seen == {(False, False), (False, True), (True, False), (True, True)}
    assert checked > 100
