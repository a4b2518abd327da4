# Copyright (c) mmsim contributors. All rights reserved.
"""Colours, patterns and backgrounds of the shapes images."""
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw

_TINT = 12.  # std of the per-channel tint of a colour
_GREY_TINT = 4.  # the same for the greys of classification images
_CLASS_TEXTURE_PROB = 0.9  # see _texture
# Pattern kinds (see _pattern); class ``i`` wears kind ``i`` ('solid' is a
# plain fill), all at one period range, so that the kind, not the scale,
# tells classes apart: crop-scale zoom and blur, which self-supervised
# methods learn to ignore, change the apparent period but not the kind.
PATTERN_KINDS = ('stripes', 'checker', 'dots', 'solid', 'grid', 'rings',
                 'waves', 'blotches')
_PERIOD = (5., 7.)  # pattern period range in pixels at 64 px


def _colour(rng: np.random.Generator,
            away_from: Optional[np.ndarray] = None) -> np.ndarray:
    """A random muted colour (a grey level with a slight tint), if given,
    at L1 distance >= 120 from another.

    Muted on purpose: with saturated random colours, colour alone tells
    images apart, and self-supervised methods learn that shortcut long
    before shape or texture (the class cues).
    """
    for _ in range(20):
        colour = rng.uniform(20, 235) + rng.normal(0, _TINT, 3)
        colour = np.clip(colour, 0, 255).astype(np.float32)
        if away_from is None or np.abs(colour - away_from).sum() >= 120:
            break
    return colour


def _pattern(rng: np.random.Generator,
             img_size: int,
             period: float,
             kind: Optional[str] = None) -> np.ndarray:
    """(S, S) bool pattern of one of :data:`PATTERN_KINDS` (a random one
    unless given) at a random angle and phase; ``solid`` is all True."""
    if kind is None:
        kind = PATTERN_KINDS[rng.integers(len(PATTERN_KINDS))]
    yy, xx = np.mgrid[0:img_size, 0:img_size] + 0.5
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle) + rng.uniform(0, period)
    v = -xx * np.sin(angle) + yy * np.cos(angle) + rng.uniform(0, period)
    if kind == 'solid':
        return np.ones((img_size, img_size), dtype=bool)
    if kind == 'stripes':
        return (u / period) % 2 < 1
    if kind == 'checker':
        return (np.floor(u / period) + np.floor(v / period)) % 2 == 0
    if kind == 'grid':  # thin lines both ways
        return ((u / period) % 2 < 0.5) | ((v / period) % 2 < 0.5)
    if kind == 'waves':  # stripes bent by a sine across them
        bend = 0.8 * period * np.sin(np.pi * v / (1.5 * period))
        return ((u + bend) / period) % 2 < 1
    if kind == 'rings':  # concentric about a point near the middle
        centre = rng.uniform(0.3, 0.7, 2) * img_size
        radius = np.hypot(xx - centre[0], yy - centre[1])
        return (radius / period) % 2 < 1
    if kind == 'blotches':  # smooth noise, thresholded at its median
        cells = max(2, int(round(img_size / period)))
        noise = rng.normal(size=(cells, cells)).astype(np.float32)
        smooth = np.asarray(
            Image.fromarray(noise, mode='F').resize((img_size, img_size),
                                                    Image.BICUBIC))
        return smooth > np.median(smooth)
    if kind == 'dots':
        du = u - 2 * period * np.round(u / (2 * period))
        dv = v - 2 * period * np.round(v / (2 * period))
        return du**2 + dv**2 < (0.6 * period)**2
    raise KeyError(f'unknown pattern kind {kind!r}; known: {PATTERN_KINDS}')


def _grey(rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """A (3,) float32 grey level in [low, high) with a faint tint."""
    colour = rng.uniform(low, high) + rng.normal(0, _GREY_TINT, 3)
    return np.clip(colour, 0, 255).astype(np.float32)


def _texture(rng: np.random.Generator,
             img_size: int,
             background: np.ndarray,
             label: int,
             plain: bool = False,
             period_scale: Optional[float] = None) -> np.ndarray:
    """(S, S, 3) float32 object texture in two random colours (``plain``:
    a dark and a light grey, so that colour hardly tells images apart and
    instance discrimination has to look at shape and pattern).

    With probability ``_CLASS_TEXTURE_PROB`` the pattern kind is the
    class's own (``PATTERN_KINDS[label]``: a cue that survives colour
    jitter, cropping and blur, which self-supervised methods can learn in
    minutes on a CPU), else a random kind (shape is the only cue). The
    pattern period is ``_PERIOD`` times ``period_scale`` (default
    ``img_size / 64``).
    """
    if plain:
        first, second = _grey(rng, 30, 70), _grey(rng, 186, 226)
        if rng.random() < 0.5:
            first, second = second, first
    else:
        first = _colour(rng, background.reshape(-1, 3).mean(axis=0))
        second = _colour(rng, first)
    if rng.random() < _CLASS_TEXTURE_PROB:
        kind = PATTERN_KINDS[label % len(PATTERN_KINDS)]
    else:
        kind = PATTERN_KINDS[rng.integers(len(PATTERN_KINDS))]
    if period_scale is None:
        period_scale = img_size / 64
    period = rng.uniform(*_PERIOD) * period_scale
    pattern = _pattern(rng, img_size, period, kind)[..., None]
    return np.where(pattern, first, second)


def _background(rng: np.random.Generator,
                img_size: int,
                plain: bool = False) -> np.ndarray:
    """(S, S, 3) float32 background: gradient, smooth noise or stripes,
    then maybe a clutter of small distractor blobs, then pixel noise.

    ``plain``: a faint gradient about a mid grey and pixel noise only, so
    that the object is what tells one image from another.
    """
    kind = 0 if plain else rng.integers(3)
    first = _grey(rng, 112, 144) if plain else _colour(rng)
    second = first + rng.normal(0, 8, 3) if plain else _colour(rng)
    if kind == 0:
        yy, xx = np.mgrid[0:img_size, 0:img_size] / img_size
        angle = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(angle) + yy * np.sin(angle)
        t = ((t - t.min()) / max(t.max() - t.min(), 1e-6))[..., None]
        img = first + (second - first) * t
    elif kind == 1:
        cells = int(rng.integers(3, 9))
        low = np.stack([_colour(rng) for _ in range(cells * cells)])
        low = low.reshape(cells, cells, 3).astype(np.uint8)
        img = np.asarray(
            Image.fromarray(low).resize((img_size, img_size), Image.BICUBIC),
            np.float32)
    else:
        period = rng.uniform(3., 10.) * img_size / 64
        pattern = _pattern(rng, img_size, period)[..., None]
        img = np.where(pattern, first, 0.5 * (first + second))
    img = np.array(img, dtype=np.float32)
    if not plain and rng.random() < 0.6:
        canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(canvas)
        for _ in range(int(rng.integers(3, 13))):
            x, y = rng.uniform(0, img_size, 2)
            rx, ry = rng.uniform(0.015, 0.05, 2) * img_size
            draw.ellipse([x - rx, y - ry, x + rx, y + ry],
                         fill=tuple(int(c) for c in _colour(rng)))
        img = np.asarray(canvas, np.float32)
    return img + rng.normal(0, rng.uniform(0, 8), img.shape)
