# Copyright (c) mmsim contributors. All rights reserved.
"""Shape outlines: the classes' unit polygons, their random placement in
an image, their anti-aliased pixel coverage and box geometry."""
from typing import List, Optional

import numpy as np
from PIL import Image, ImageDraw

SHAPE_CLASSES = ('circle', 'square', 'triangle', 'star', 'ring', 'cross',
                 'hexagon', 'arrow')
_SUPERSAMPLE = 4


def _regular(num: int, radius: float = 1., phase: float = 0.) -> np.ndarray:
    """(num, 2) vertices of a regular polygon, first vertex pointing up."""
    angles = phase - np.pi / 2 + 2 * np.pi * np.arange(num) / num
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _unit_outline(name: str) -> np.ndarray:
    """(K, 2) outline of a class in unit size (extent about [-1, 1])."""
    if name in ('circle', 'ring'):
        return _regular(48)
    if name == 'square':
        return _regular(4, phase=np.pi / 4)
    if name == 'triangle':
        return _regular(3)
    if name == 'hexagon':
        return _regular(6)
    if name == 'star':
        outer, inner = _regular(5), _regular(5, 0.42, np.pi / 5)
        return np.stack([outer, inner], axis=1).reshape(-1, 2)
    # yapf: disable
    if name == 'cross':
        a, b = 0.3, 0.95
        return np.array([[-a, -b], [a, -b], [a, -a], [b, -a], [b, a], [a, a],
                         [a, b], [-a, b], [-a, a], [-b, a], [-b, -a],
                         [-a, -a]])
    if name == 'arrow':
        return np.array([[-1, -.22], [.15, -.22], [.15, -.6], [1, 0],
                         [.15, .6], [.15, .22], [-1, .22]])
    # yapf: enable
    raise KeyError(f'unknown shape {name!r}; known: {SHAPE_CLASSES}')


def _place(rng: np.random.Generator, name: str, img_size: int,
           radius: float) -> np.ndarray:
    """A randomly stretched, rotated outline at a random place inside.

    Returns:
        np.ndarray: (K, 2) outline in pixels (x, y), rounded to 0.01,
        inside ``[1, img_size - 1]``.
    """
    stretch = rng.uniform(0.85, 1.15)
    angle = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(angle), -np.sin(angle)],
                    [np.sin(angle), np.cos(angle)]])
    points = _unit_outline(name) * radius * np.array([stretch, 1 / stretch])
    points = points @ rot.T
    low = 1 - points.min(axis=0)
    high = img_size - 1 - points.max(axis=0)
    centre = rng.uniform(low, np.maximum(low, high))
    return np.round(points + centre, 2)


def _coverage(outline: np.ndarray,
              img_size: int,
              hole: Optional[np.ndarray] = None) -> np.ndarray:
    """Anti-aliased (S, S) float32 coverage of a polygon (minus a hole)."""
    s = _SUPERSAMPLE
    canvas = Image.new('L', (img_size * s, img_size * s), 0)
    draw = ImageDraw.Draw(canvas)
    draw.polygon([tuple(p) for p in outline * s - 0.5], fill=255)
    if hole is not None:
        draw.polygon([tuple(p) for p in hole * s - 0.5], fill=0)
    small = canvas.resize((img_size, img_size), Image.BOX)
    return np.asarray(small, dtype=np.float32) / 255.


def _bbox(outline: np.ndarray) -> List[float]:
    low, high = outline.min(axis=0), outline.max(axis=0)
    return [
        float(low[0]),
        float(low[1]),
        float(high[0] - low[0]),
        float(high[1] - low[1])
    ]


def _iou(a: List[float], b: List[float]) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _polygon_area(outline: np.ndarray) -> float:
    x, y = outline[:, 0], outline[:, 1]
    return float(
        abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)
