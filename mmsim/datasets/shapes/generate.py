# Copyright (c) mmsim contributors. All rights reserved.
"""The entry point: argument checks, clearing an earlier set, the
manifest."""
import json
import os
import os.path as osp
import shutil
from typing import Dict

import numpy as np

from .outlines import SHAPE_CLASSES
from .writers import (_write_classification, _write_detection,
                      _write_pretrain_list)

_VERSION = 6
_MANIFEST = 'manifest.json'
_INCOMPLETE = '.mmsim-shapes-incomplete'
_OUTPUTS = ('train', 'val', 'meta', 'det')


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
        _write_detection(out_dir, 'train', num_det_train, det_img_size, seed,
                         _VERSION)
        _write_detection(out_dir, 'val', num_det_val, det_img_size, seed,
                         _VERSION)
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
