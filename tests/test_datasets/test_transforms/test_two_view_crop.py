# Copyright (c) mmsim contributors. All rights reserved.
"""SIMTwoViewCrop: views, geometry read back from pixels, errors."""
import os.path as osp
import random
import re

import mmcv
import numpy as np
import pytest
from mmengine.config import Config

from mmsim.datasets.transforms import SIMTwoViewCrop
from mmsim.datasets.transforms.two_view_crop import sample_crop_box

SIM_PIPELINE = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'configs', 'sim', '_base_',
    'sim_pipeline.py')
HEIGHT, WIDTH = 180, 240  # <= 256: coordinates fit in uint8
SIZE = 224
GRID = 14


def coded_image(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """(H, W, 3) uint8 with channel 0 = column index, 1 = row index."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([cols, rows, np.zeros_like(rows)], -1).astype(np.uint8)


def solve_axis(codes: np.ndarray, length: int) -> tuple:
    """Recover ``(offset, extent)`` of a crop from one axis of a view.

    With Pillow's nearest resize, output pixel k of a crop at ``offset``
    with ``extent`` pixels reads source index ``offset + floor((k + 0.5) *
    extent / S)`` (up to float rounding where that is an integer). Every
    integer extent is tried; exactly one must explain all codes.
    """
    centres = (np.arange(len(codes)) + 0.5) / len(codes)
    found = []
    for extent in range(1, length + 1):
        low = np.floor(centres * extent - 1e-9).astype(int)
        high = np.floor(centres * extent + 1e-9).astype(int)
        offset = codes[0] - high[0]
        if ((codes == offset + low) | (codes == offset + high)).all():
            found.append((int(offset), extent))
    assert len(found) == 1, found
    return found[0]


def read_view(view: np.ndarray,
              height: int = HEIGHT,
              width: int = WIDTH) -> dict:
    """Recover a view's crop box and flip from its coordinate codes.

    The box is in pixels of the flipped-or-not image, as in
    docs/method.md §1: a flipped view's column codes read ``W - 1 -`` its
    own column index.
    """
    cols = view[view.shape[0] // 2, :, 0].astype(int)
    rows = view[:, view.shape[1] // 2, 1].astype(int)
    flip = bool(cols[-1] < cols[0])
    if flip:
        cols = width - 1 - cols
    j, w = solve_axis(cols, width)
    i, h = solve_axis(rows, height)
    return dict(box=(i, j, h, w), flip=flip)


def spec_rel_pos(view_1: dict, view_2: dict, width: int = WIDTH) -> list:
    """docs/method.md §1's six numbers from two read-back views."""
    i1, j1, h1, w1 = view_1['box']
    i2, j2, h2, w2 = view_2['box']
    return [(i2 - i1) / h1, (j2 - j1) / w1, h2 / h1, w2 / w1,
            float(view_1['flip'] != view_2['flip']), (width - j1 - j2) / w1]


def source_x(view: dict, u: np.ndarray, width: int = WIDTH) -> np.ndarray:
    """Original-image x (continuous) of a view's output coordinate u."""
    _, j, _, w = view['box']
    x = j + u * w / SIZE
    return width - x if view['flip'] else x


def to_view_1_x(view_1: dict, x: np.ndarray, width: int = WIDTH) -> np.ndarray:
    """Original-image x to view 1's patch units (patch c centred at c)."""
    _, j, _, w = view_1['box']
    x = width - x if view_1['flip'] else x
    return (x - j) * GRID / w - 0.5


def spec_centres(rel_pos: np.ndarray) -> tuple:
    """(y, x) of view-2 patch centres in view-1 patch units
    (docs/method.md §2)."""
    d_i, d_j, d_h, d_w, flip, flip_d_j = rel_pos.astype(np.float64)
    c = np.arange(GRID) + 0.5
    y = d_h * c + d_i * GRID - 0.5
    if flip:
        x = -d_w * c + flip_d_j * GRID - 0.5
    else:
        x = d_w * c + d_j * GRID - 0.5
    return y, x


def test_outputs_shapes_and_dtypes():
    crop = SIMTwoViewCrop()
    results = crop(dict(img=coded_image(), img_path='a.jpg'))
    assert isinstance(results['img'], list) and len(results['img']) == 2
    for view in results['img']:
        assert view.shape == (SIZE, SIZE, 3) and view.dtype == np.uint8
    assert results['rel_pos'].shape == (6, )
    assert results['rel_pos'].dtype == np.float32
    assert tuple(results['img_shape']) == (SIZE, SIZE)
    assert results['img_path'] == 'a.jpg'


def test_rel_pos_read_back_from_pixels():
    """Crop boxes and flips read from the pixels give the six numbers of
    docs/method.md §1."""
    crop = SIMTwoViewCrop(scale=(0.2, 1.0), interpolation='nearest')
    seen = set()
    for seed in range(40):
        random.seed(seed)
        results = crop(dict(img=coded_image()))
        views = [read_view(v) for v in results['img']]
        np.testing.assert_allclose(
            results['rel_pos'], spec_rel_pos(*views), rtol=1e-6)
        seen.add((views[0]['flip'], views[1]['flip']))
    assert seen == {(False, False), (False, True), (True, False), (True, True)}


def test_rel_pos_places_view_2_patches_in_view_1():
    """Patch centres from rel_pos (docs/method.md §2) match the pixels'
    sources.

    This pins flip_delta_j down: with a relative flip, view-2 column c
    sits at ``-delta_w * (c + 0.5) + flip_delta_j * G - 0.5`` view-1
    patches (W, not W - 1, in ``(W - j1 - j2) / w1``).
    """
    crop = SIMTwoViewCrop(scale=(0.2, 1.0), interpolation='nearest')
    centres = (np.arange(GRID) + 0.5) * SIZE / GRID
    flips = set()
    for seed in range(40):
        random.seed(seed)
        results = crop(dict(img=coded_image()))
        view_1, view_2 = (read_view(v) for v in results['img'])
        x = to_view_1_x(view_1, source_x(view_2, centres))
        i1, _, h1, _ = view_1['box']
        i2, _, h2, _ = view_2['box']
        y = (i2 + centres * h2 / SIZE - i1) * GRID / h1 - 0.5
        y_spec, x_spec = spec_centres(results['rel_pos'])
        np.testing.assert_allclose(y, y_spec, atol=1e-4)
        np.testing.assert_allclose(x, x_spec, atol=1e-4)
        flips.add(bool(results['rel_pos'][4]))
    assert flips == {True, False}


def test_bicubic_views_share_the_geometry():
    """The default bicubic resize samples the same boxes."""
    img = coded_image()
    for seed in range(5):
        random.seed(seed)
        nearest = SIMTwoViewCrop(interpolation='nearest')(dict(img=img))
        random.seed(seed)
        bicubic = SIMTwoViewCrop()(dict(img=img))
        np.testing.assert_array_equal(bicubic['rel_pos'], nearest['rel_pos'])
        for view_b, view_n in zip(bicubic['img'], nearest['img']):
            inner = (slice(8, -8), slice(8, -8), slice(0, 2))
            diff = view_b[inner].astype(float) - view_n[inner]
            assert abs(diff).mean() < 0.6


@pytest.mark.parametrize('flip_prob', [0., 1.])
def test_identity_views(flip_prob):
    img = coded_image(200, 200)
    crop = SIMTwoViewCrop(
        size=SIZE, scale=(1., 1.), ratio=(1., 1.), flip_prob=flip_prob)
    results = crop(dict(img=img))
    # Whole image, same flip: no offset, scale 1, flip_delta_j = W / W.
    np.testing.assert_array_equal(results['rel_pos'], [0, 0, 1, 1, 0, 1])
    expected = mmcv.imresize(
        img[:, ::-1] if flip_prob else img, (SIZE, SIZE),
        interpolation='bicubic',
        backend='pillow')
    for view in results['img']:
        np.testing.assert_array_equal(view, expected)


@pytest.mark.parametrize('flip_prob', [0., 1.])
def test_centre_crop_fallback(flip_prob):
    # A 208 x 208 box cannot fit a 180 x 240 image: the fallback centre
    # crop clamped to ratio 1 is (0, 30, 180, 180), in either frame.
    assert sample_crop_box(HEIGHT, WIDTH, (1., 1.),
                           (1., 1.)) == (0, 30, 180, 180)
    crop = SIMTwoViewCrop(scale=(1., 1.), ratio=(1., 1.), flip_prob=flip_prob)
    results = crop(dict(img=coded_image()))
    np.testing.assert_allclose(results['rel_pos'],
                               [0, 0, 1, 1, 0, (WIDTH - 60) / 180])


def test_crop_box_sampling_statistics():
    boxes = np.array([
        sample_crop_box(HEIGHT, WIDTH, (0.2, 1.), (3 / 4, 4 / 3))
        for _ in range(2000)
    ])
    i, j, h, w = boxes.T
    assert (i >= 0).all() and (j >= 0).all()
    assert (i + h <= HEIGHT).all() and (j + w <= WIDTH).all()
    area = h * w / (HEIGHT * WIDTH)
    assert area.min() >= 0.19 and area.max() <= 1.
    assert abs(np.log(w / h)).max() <= np.log(4 / 3) + 0.02


def test_small_image_is_upscaled():
    img = coded_image(20, 30)
    for seed in range(5):
        random.seed(seed)
        results = SIMTwoViewCrop(interpolation='nearest')(dict(img=img))
        views = [read_view(v, 20, 30) for v in results['img']]
        for view in results['img']:
            assert view.shape == (SIZE, SIZE, 3)
        for view in views:
            i, j, h, w = view['box']
            assert 0 <= i and i + h <= 20 and 0 <= j and j + w <= 30
        np.testing.assert_allclose(
            results['rel_pos'], spec_rel_pos(*views, width=30), rtol=1e-6)


def test_colour_pipeline_is_per_view():
    img = np.full((64, 80, 3), 200, np.uint8)
    solarize = [dict(type='RandomSolarize', threshold=128, prob=1.)]
    results = SIMTwoViewCrop(
        size=32, view_pipelines=[[], solarize])(
            dict(img=img))
    assert (results['img'][0] == 200).all()
    assert (results['img'][1] == 55).all()
    results = SIMTwoViewCrop(
        size=32, view_pipelines=[solarize, None])(
            dict(img=img))
    assert (results['img'][0] == 55).all()
    assert (results['img'][1] == 200).all()


def test_shipped_colour_pipelines_run():
    """The colour views of configs/sim/_base_/sim_pipeline.py (jitter
    forced on) run inside the crop."""
    colour = Config.fromfile(SIM_PIPELINE)
    jitter = dict(colour.color_jitter, prob=1.)
    crop = SIMTwoViewCrop(
        size=32,
        view_pipelines=[[jitter, *colour.view_1_colour[1:]],
                        colour.view_2_colour])
    results = crop(dict(img=coded_image()))
    assert [v.shape for v in results['img']] == [(32, 32, 3)] * 2
    assert 'ColorJitter' in repr(crop) and 'RandomGaussianBlur' in repr(crop)


@pytest.mark.parametrize(
    'img', [
        np.zeros((32, 32), np.uint8),
        np.zeros((32, 32, 4), np.uint8),
        np.zeros((0, 32, 3), np.uint8),
        np.zeros((32, 0, 3), np.uint8),
        np.zeros((32, 32, 3), np.float32),
    ],
    ids=['grayscale', 'rgba', 'zero-height', 'zero-width', 'float'])
def test_bad_images_raise(img):
    with pytest.raises(ValueError) as info:
        SIMTwoViewCrop()(dict(img=img, img_path='data/x/bad.png'))
    message = str(info.value)
    assert 'data/x/bad.png' in message
    assert str(img.shape) in message
    assert "color_type='color'" in message


@pytest.mark.parametrize('kwargs, value', [
    (dict(scale=(0., 1.)), '(0.0, 1.0)'),
    (dict(scale=(0.5, 0.2)), '(0.5, 0.2)'),
    (dict(scale=(0.2, 1.5)), '(0.2, 1.5)'),
    (dict(ratio=(0., 1.)), '(0.0, 1.0)'),
    (dict(ratio=(2., 1.)), '(2.0, 1.0)'),
    (dict(size=0), '0'),
    (dict(flip_prob=1.5), '1.5'),
    (dict(interpolation='cubic'), 'cubic'),
    (dict(backend='turbojpeg'), 'turbojpeg'),
    (dict(view_pipelines=[[]]), '[[]]'),
])
def test_bad_args_raise(kwargs, value):
    with pytest.raises(ValueError, match=re.escape(value)):
        SIMTwoViewCrop(**kwargs)


def test_repr():
    text = repr(SIMTwoViewCrop(size=96, scale=(0.08, 1.)))
    assert text.startswith('SIMTwoViewCrop(size=96')
    assert 'scale=(0.08, 1.0)' in text and "backend='pillow'" in text
