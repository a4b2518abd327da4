# Copyright (c) mmsim contributors. All rights reserved.
"""Images of one pixel, or smaller than the crop, through the shipped
pre-training pipelines: full-size views, a finite view geometry that
matches the pixels each view holds, and a finite SIM loss."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmselfsup.registry import MODELS, TRANSFORMS
from PIL import Image

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'sim')
QUICK_START = 'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py'
IMAGENET = 'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py'
# (width, height): one pixel, smaller than every crop, both aspects, thin
SIZES = [(1, 1), (10, 7), (7, 10), (2, 3), (3, 500), (500, 1)]


def write_image(folder, width: int, height: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    path = osp.join(str(folder), f'img_{width}x{height}.png')
    Image.fromarray(rng.integers(0, 256, (height, width, 3),
                                 np.uint8)).save(path)
    return path


def run_pipeline(pipeline, path: str) -> dict:
    results = dict(img_path=path)
    for transform in pipeline:
        results = transform(results)
    return results


@pytest.mark.parametrize('config,size,grid', [(QUICK_START, 96, 6),
                                              (IMAGENET, 224, 14)])
def test_shipped_pipelines_crop_small_images_to_full_views(
        tmp_path, config, size, grid):
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    pipeline = [
        TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline
    ]
    for width, height in SIZES:
        path = write_image(tmp_path, width, height)
        for _ in range(20):
            packed = run_pipeline(pipeline, path)
            assert [tuple(v.shape) for v in packed['inputs']] == \
                [(3, size, size)] * 2, (width, height)
            rel_pos = packed['data_samples'].pseudo_label.rel_pos
            assert torch.isfinite(rel_pos).all(), (width, height, rel_pos)
            # a box of at least one pixel in both views: positive scales
            assert (rel_pos[2:4] > 0).all(), (width, height, rel_pos)
            assert (rel_pos[2:4] <= max(width, height)).all()
            assert rel_pos[4] in (0., 1.)
            assert packed['data_samples'].mask.value.shape == (grid, grid)


def coordinate_image(width: int, height: int) -> np.ndarray:
    """BGR pixels that hold their own position: B = row, G = column."""
    img = np.zeros((height, width, 3), np.uint8)
    img[..., 0] = np.arange(height)[:, None]
    img[..., 1] = np.arange(width)[None, :]
    img[..., 2] = 255
    return img


def box_candidates(view: np.ndarray, width: int):
    """``(i, j, h, w, flip)`` boxes, in the flipped-or-not image's pixels,
    that a nearest-neighbour view of :func:`coordinate_image` can come
    from (both flips when the box is one column wide)."""
    rows, cols = view[..., 0], view[..., 1].astype(int)
    i, h = int(rows.min()), int(rows.max()) - int(rows.min()) + 1
    w = int(cols.max()) - int(cols.min()) + 1
    flips = [bool(cols[0, 0] > cols[0, -1])] if w > 1 else [False, True]
    return [(i, width - 1 - int(cols.max()) if flip else int(cols.min()), h, w,
             flip) for flip in flips]


def expected_rel_pos(box_1, box_2, width: int) -> np.ndarray:
    """Spec section 1, written out: view 2's box in view 1's units."""
    i1, j1, h1, w1, flip_1 = box_1
    i2, j2, h2, w2, flip_2 = box_2
    return np.array([(i2 - i1) / h1, (j2 - j1) / w1, h2 / h1, w2 / w1,
                     float(flip_1 != flip_2), (width - j1 - j2) / w1],
                    np.float32)


@pytest.mark.parametrize('width,height', SIZES)
def test_geometry_matches_what_the_views_hold(width, height):
    """The quick start's crop (scale, ratio, flips) with nearest resizing
    and no colour, on an image of its own coordinates: the boxes read
    back from the views' pixels give the recorded ``rel_pos``."""
    crop_cfg = dict(
        Config.fromfile(osp.join(CONFIGS, QUICK_START)).train_pipeline[1])
    crop_cfg.update(interpolation='nearest', view_pipelines=None)
    crop = TRANSFORMS.build(crop_cfg)
    img = coordinate_image(width, height)
    for _ in range(50):
        out = crop(dict(img=img.copy()))
        view_1, view_2 = out['img']
        assert view_1.shape == view_2.shape == (96, 96, 3)
        assert (view_1[..., 2] == 255).all()  # only image pixels
        matches = [
            np.allclose(out['rel_pos'], expected_rel_pos(b1, b2, width))
            for b1 in box_candidates(view_1, width)
            for b2 in box_candidates(view_2, width)
        ]
        assert any(matches), (width, height, out['rel_pos'])


def test_a_batch_of_small_images_gives_a_finite_loss(tmp_path):
    """The quick start's model (one block) on a batch of the small images
    through its pipeline and data preprocessor."""
    cfg = Config.fromfile(osp.join(CONFIGS, QUICK_START))
    cfg.model.backbone.arch.num_layers = 1
    model = MODELS.build(cfg.model)
    model.init_weights()
    pipeline = [TRANSFORMS.build(t) for t in cfg.train_pipeline]
    samples = [
        run_pipeline(pipeline, write_image(tmp_path, w, h, seed))
        for seed, (w, h) in enumerate(SIZES)
    ]
    inputs, data_samples = model.data_preprocessor(
        default_collate(samples), True)
    losses = model(inputs, data_samples, mode='loss')
    assert torch.isfinite(losses['loss']), losses
