# Copyright (c) mmsim contributors. All rights reserved.
"""Rendering of one classification or detection image."""
from typing import List, Optional, Tuple

import numpy as np

from .outlines import SHAPE_CLASSES, _bbox, _coverage, _iou, _place
from .textures import _background, _texture

_RING_HOLE = 0.55  # inner radius of a ring, relative to the outer one


def _paint(rng: np.random.Generator,
           img: np.ndarray,
           label: int,
           outline: np.ndarray,
           plain: bool = False,
           return_alpha: bool = False,
           period_scale: Optional[float] = None):
    """Composite one textured object onto an (S, S, 3) float image; with
    ``return_alpha`` also return its (S, S) coverage."""
    size = img.shape[0]
    hole = None
    if SHAPE_CLASSES[label] == 'ring':
        centre = outline.mean(axis=0)
        hole = centre + (outline - centre) * _RING_HOLE
    alpha = _coverage(outline, size, hole)
    out = img * (1 - alpha[..., None]) + \
        _texture(rng, size, img, label, plain, period_scale) * alpha[..., None]
    return (out, alpha) if return_alpha else out


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def render_classification_image(seed: Tuple[int, ...], img_size: int,
                                label: int) -> np.ndarray:
    """One (S, S, 3) uint8 RGB image with one object of class ``label``."""
    rng = np.random.default_rng(seed)
    name = SHAPE_CLASSES[label]
    img = _background(rng, img_size, plain=True)
    outline = _place(rng, name, img_size, rng.uniform(0.3, 0.45) * img_size)
    return _to_uint8(_paint(rng, img, label, outline, plain=True))


def render_detection_image(
    seed: Tuple[int, ...], img_size: int
) -> Tuple[np.ndarray, List[Tuple[int, np.ndarray]], np.ndarray]:
    """An (S, S, 3) uint8 RGB image with 1-4 objects, little overlap.

    The pre-training images' world (plain mid-grey background, objects in
    a dark and a light grey wearing their class pattern at the same period
    relative to their size; at ``img_size`` 128 about the size in pixels of
    the classification images' objects), so that what pre-training learns
    can transfer.

    Returns:
        Tuple[np.ndarray, List[Tuple[int, np.ndarray]], np.ndarray]: The
        image; per object, its label and (K, 2) outline in pixels (a ring's
        outer one); and the (S, S) uint8 label map: 0 for background,
        ``label + 1`` where an object covers at least half a pixel (a ring's
        hole is background; a later object covers an earlier one).
    """
    rng = np.random.default_rng(seed)
    img = _background(rng, img_size, plain=True)
    label_map = np.zeros((img_size, img_size), np.uint8)
    objects = []
    for _ in range(int(rng.integers(1, 5))):
        label = int(rng.integers(len(SHAPE_CLASSES)))
        name = SHAPE_CLASSES[label]
        radius = rng.uniform(0.14, 0.28) * img_size
        for _ in range(20):
            outline = _place(rng, name, img_size, radius)
            if all(_iou(_bbox(outline), _bbox(o)) < 0.15 for _, o in objects):
                # the pattern's period relative to the object's size as in
                # the classification images (mean radius 0.375 * 64 px)
                img, alpha = _paint(
                    rng,
                    img,
                    label,
                    outline,
                    plain=True,
                    return_alpha=True,
                    period_scale=radius / 24.)
                label_map[alpha >= 0.5] = label + 1
                objects.append((label, outline))
                break
    return _to_uint8(img), objects, label_map
