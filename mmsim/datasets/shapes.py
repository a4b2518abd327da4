# Copyright (c) mmsim contributors. All rights reserved.
"""A small synthetic dataset of textured shapes.

The project's built-in data: SIM pre-training and kNN evaluation on the
classification part, Mask R-CNN on the COCO-format instance part. Pure
numpy + Pillow, deterministic by seed (each image has its own generator
seeded by ``(seed, split, index)``, so a bigger set extends a smaller one).

Layout under ``out_dir``::

    train/<class>/<idx>.jpg, val/<class>/<idx>.jpg  one object per image
    meta/train.txt, meta/val.txt                    "<class>/<idx>.jpg <label>"
    meta/pretrain.txt                               both training sets, for
                                                    self-supervised learning
    meta/classes.txt                                one class name per line
    det/train/<idx>.jpg, det/val/<idx>.jpg          1-4 objects per image
    det/labels/{train,val}/<idx>.png                per-pixel class, 0 = bg
    det/annotations/instances_{train,val}.json      COCO, category ids from 1
    manifest.json                                   parameters, written last

Classification: ``dict(type='mmcls.CustomDataset', data_root=out_dir,
ann_file='meta/train.txt', data_prefix=dict(img_path='train/'))``.
Detection: ``dict(type='CocoDataset', data_root=out_dir + '/det/',
ann_file='annotations/instances_train.json', data_prefix=dict(img='train/'),
metainfo=dict(classes=SHAPE_CLASSES))``.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw

SHAPE_CLASSES = ('circle', 'square', 'triangle', 'star', 'ring', 'cross',
                 'hexagon', 'arrow')

_VERSION = 6
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
_MANIFEST = 'manifest.json'
_INCOMPLETE = '.mmsim-shapes-incomplete'
_OUTPUTS = ('train', 'val', 'meta', 'det')
_SPLIT_CODES = {'train': 0, 'val': 1, 'det_train': 2, 'det_val': 3}
_SUPERSAMPLE = 4
_RING_HOLE = 0.55  # inner radius of a ring, relative to the outer one


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


def _polygon_area(outline: np.ndarray) -> float:
    x, y = outline[:, 0], outline[:, 1]
    return float(
        abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _save(img: np.ndarray, path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(img).save(path, quality=95)


def _write_classification(out_dir: str, split: str, num: int, img_size: int,
                          seed: int) -> None:
    lines = []
    for idx in range(num):
        label = idx % len(SHAPE_CLASSES)
        rel_path = f'{SHAPE_CLASSES[label]}/{idx:06d}.jpg'
        img = render_classification_image((seed, _SPLIT_CODES[split], idx),
                                          img_size, label)
        _save(img, osp.join(out_dir, split, rel_path))
        lines.append(f'{rel_path} {label}\n')
    with open(osp.join(out_dir, 'meta', f'{split}.txt'), 'w') as f:
        f.writelines(lines)


def _write_detection(out_dir: str, split: str, num: int, img_size: int,
                     seed: int) -> None:
    images, annotations = [], []
    for idx in range(num):
        img, objects, label_map = render_detection_image(
            (seed, _SPLIT_CODES[f'det_{split}'], idx), img_size)
        file_name = f'{idx:06d}.jpg'
        _save(img, osp.join(out_dir, 'det', split, file_name))
        _save(label_map, osp.join(out_dir, 'det', 'labels', split,
                                  f'{idx:06d}.png'))
        images.append(
            dict(
                id=idx + 1,
                file_name=file_name,
                width=img_size,
                height=img_size))
        for label, outline in objects:
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=idx + 1,
                    category_id=label + 1,
                    bbox=_bbox(outline),
                    area=_polygon_area(outline),
                    iscrowd=0,
                    segmentation=[outline.reshape(-1).tolist()]))
    coco = dict(
        info=dict(description='mmsim synthetic shapes', version=_VERSION),
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i + 1, name=name, supercategory='shape')
            for i, name in enumerate(SHAPE_CLASSES)
        ])
    ann_dir = osp.join(out_dir, 'det', 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    with open(osp.join(ann_dir, f'instances_{split}.json'), 'w') as f:
        json.dump(coco, f)


def _write_pretrain_list(out_dir: str, num_det_train: int) -> None:
    """``meta/pretrain.txt``: the classification and the detection training
    images (paths relative to ``out_dir``) for pre-training; the label of a
    detection image is -1 (it has several objects; pre-training uses none).
    """
    with open(osp.join(out_dir, 'meta', 'train.txt')) as f:
        lines = [f'train/{line}' for line in f]
    lines += [f'det/train/{idx:06d}.jpg -1\n' for idx in range(num_det_train)]
    with open(osp.join(out_dir, 'meta', 'pretrain.txt'), 'w') as f:
        f.writelines(lines)


def _check_args(params: Dict[str, int]) -> None:
    """Raise a ValueError naming the first impossible parameter."""
    minimum = dict(
        num_train=1,
        num_val=0,
        num_det_train=0,
        num_det_val=0,
        img_size=32,
        det_img_size=64,
        seed=0)
    for key, low in minimum.items():
        value = params[key]
        if (not isinstance(value, (int, np.integer))
                or isinstance(value, bool) or value < low):
            raise ValueError(f'{key} must be an int >= {low}, got {value!r}')
    for key in ('img_size', 'det_img_size'):
        if params[key] > 2048:
            raise ValueError(f'{key} must be <= 2048, got {params[key]!r}')


def _clear_previous(out_dir: str) -> None:
    """Remove the outputs of an earlier (or interrupted) generation.

    Only our own folders go, and only when ``out_dir`` holds our manifest or
    our in-progress marker; other existing outputs raise instead.
    """
    ours = (
        osp.exists(osp.join(out_dir, _MANIFEST))
        or osp.exists(osp.join(out_dir, _INCOMPLETE)))
    present = [d for d in _OUTPUTS if osp.exists(osp.join(out_dir, d))]
    if present and not ours:
        raise FileExistsError(
            f'{out_dir!r} already holds {present} that this generator did '
            'not write (no manifest.json); choose an empty or new folder')
    for name in present:
        shutil.rmtree(osp.join(out_dir, name))
    if osp.exists(osp.join(out_dir, _MANIFEST)):
        os.remove(osp.join(out_dir, _MANIFEST))


def generate_shapes_dataset(out_dir: str,
                            num_train: int = 2000,
                            num_val: int = 400,
                            img_size: int = 64,
                            num_det_train: int = 800,
                            num_det_val: int = 200,
                            det_img_size: int = 128,
                            seed: int = 0,
                            force: bool = False) -> dict:
    """Write the synthetic shapes dataset, unless it is already there.

    Eight classes (:data:`SHAPE_CLASSES`) with random size, stretch,
    position and rotation. Each object wears, with probability 0.9, its
    class's own pattern (:data:`PATTERN_KINDS`: stripes, checker, dots,
    solid, grid, rings, waves, blotches, all at one period range; a cue
    that survives colour jitter, cropping and blur), else a random one
    (shape is then the only cue). Classification images show one object in
    a dark and a light grey on a plain mid-grey background; detection
    images have 1-4 such objects on the same kind of background (the same
    world, so that pre-training can help detection), with a per-pixel
    label map beside each (``det/labels/``, for the dense probe).

    Version 5 was tuned so that self-supervised pre-training finds the
    classes on a CPU budget while a random encoder does not: with random
    colours, every method first learns to tell images apart by colour
    (which carries no class), and with classes told apart by pattern
    scale, crop zoom and blur teach the encoders to ignore the cue (see
    docs/benchmarks/replay/README.md); version 6 moved the detection images
into the classification images' world. Images are RGB JPEGs (quality
95), label maps single-channel PNGs.
    The same arguments give identical bytes. A complete set with the same
    arguments (per its ``manifest.json``) is kept as is unless ``force``.

    Args:
        out_dir (str): Output folder (created if missing).
        num_train (int): Classification training images (>= 1), classes
            in turn. Defaults to 2000 (the quick start's).
        num_val (int): Classification validation images. Defaults to 400.
        img_size (int): Side of classification images. Defaults to 64.
        num_det_train (int): Detection training images (also in
            ``meta/pretrain.txt``). Defaults to 800.
        num_det_val (int): Detection validation images. Defaults to 200.
        det_img_size (int): Side of detection images. Defaults to 128.
        seed (int): Base seed. Defaults to 0.
        force (bool): Regenerate even if a matching set exists. Defaults
            to False.

    Returns:
        dict: The manifest: ``generator``, ``version``, ``params`` and
        ``classes``.

    Examples:
        >>> manifest = generate_shapes_dataset('data/shapes')
        >>> manifest['classes'][:3]
        ['circle', 'square', 'triangle']
    """
    params = dict(
        num_train=num_train,
        num_val=num_val,
        img_size=img_size,
        num_det_train=num_det_train,
        num_det_val=num_det_val,
        det_img_size=det_img_size,
        seed=seed)
    _check_args(params)
    params = {k: int(v) for k, v in params.items()}
    manifest_path = osp.join(out_dir, _MANIFEST)
    if osp.exists(manifest_path) and not force:
        with open(manifest_path) as f:
            manifest = json.load(f)
        if (manifest.get('version') == _VERSION
                and manifest.get('params') == params):
            return manifest
    os.makedirs(out_dir, exist_ok=True)
    _clear_previous(out_dir)
    open(osp.join(out_dir, _INCOMPLETE), 'w').close()

    os.makedirs(osp.join(out_dir, 'meta'), exist_ok=True)
    with open(osp.join(out_dir, 'meta', 'classes.txt'), 'w') as f:
        f.writelines(f'{name}\n' for name in SHAPE_CLASSES)
    _write_classification(out_dir, 'train', num_train, img_size, seed)
    _write_classification(out_dir, 'val', num_val, img_size, seed)
    if num_det_train or num_det_val:
        _write_detection(out_dir, 'train', num_det_train, det_img_size, seed)
        _write_detection(out_dir, 'val', num_det_val, det_img_size, seed)
    _write_pretrain_list(out_dir, num_det_train)

    manifest = dict(
        generator='mmsim.datasets.shapes',
        version=_VERSION,
        params=params,
        classes=list(SHAPE_CLASSES))
    tmp_path = manifest_path + '.tmp'
    with open(tmp_path, 'w') as f:
        json.dump(manifest, f, indent=2)
    os.replace(tmp_path, manifest_path)
    os.remove(osp.join(out_dir, _INCOMPLETE))
    return manifest
