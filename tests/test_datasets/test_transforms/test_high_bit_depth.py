# Copyright (c) mmsim contributors. All rights reserved.
"""16-bit images arrive as 8-bit ones on every loader path we ship."""
import glob
import json
import os.path as osp

import mmcv
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import TRANSFORMS, DefaultScope
from PIL import Image

from mmsim.datasets.transforms import SIMLoadImageFromFile

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
#: A horizontal ramp over the whole 16-bit range: mean 32767.5, which is
#: 127.5 once scaled to 8 bits (v >> 8); clipped at 255 it is 99.6 % white.
RAMP = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (24, 1))


@pytest.fixture(params=['png', 'tif'])
def grey16(tmp_path, request) -> str:
    path = str(tmp_path / f'grey16.{request.param}')
    image = Image.fromarray(RAMP)
    assert image.mode == 'I;16'
    image.save(path)
    return path


def test_pillow_backend_scales_16_bit_grey(grey16):
    # Before: mmcv's pillow path clipped to 255 (mean 254.0, 99.6 % white).
    img = SIMLoadImageFromFile(imdecode_backend='pillow')(
        dict(img_path=grey16))['img']
    assert img.dtype == np.uint8 and img.shape == (24, 256, 3)
    assert img.mean() == pytest.approx(127.5, abs=0.5)
    assert (img == 255).mean() < 0.01
    # the same pixels as mmcv's cv2 path (the kNN and evaluation loaders)
    np.testing.assert_array_equal(img, mmcv.imread(grey16, backend='cv2'))


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
@pytest.mark.parametrize('color_type', ['grayscale', 'unchanged'])
def test_grey_flags_give_8_bit_grey(tmp_path, backend, color_type):
    path = str(tmp_path / 'grey16.png')
    Image.fromarray(RAMP).save(path)
    img = SIMLoadImageFromFile(
        imdecode_backend=backend,
        color_type=color_type)(dict(img_path=path))['img']
    assert img.dtype == np.uint8 and img.shape == (24, 256)
    np.testing.assert_array_equal(img, RAMP >> 8)


def test_exif_orientation_of_a_16_bit_png(tmp_path):
    path = str(tmp_path / 'rotated16.png')
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(RAMP).save(path, exif=exif)
    img = SIMLoadImageFromFile(imdecode_backend='pillow')(
        dict(img_path=path))['img']
    np.testing.assert_array_equal(img, mmcv.imread(path, backend='cv2'))
    assert img.shape == (256, 24, 3)


@pytest.mark.parametrize('array,words', [
    (RAMP.astype(np.float32) / 65535, 'floating-point'),
    (RAMP.astype(np.int32) * 100, 'expected at most 16 bits'),
])
def test_images_without_an_8_bit_scale_are_named(tmp_path, array, words):
    path = str(tmp_path / 'deep.tif')
    Image.fromarray(array).save(path)
    with pytest.raises(OSError, match=words) as info:
        SIMLoadImageFromFile(imdecode_backend='pillow')(dict(img_path=path))
    assert path in str(info.value)


def _shipped_configs():
    paths = [
        path for path in glob.glob(
            osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
        if osp.join('configs', 'mmpretrain') not in path  # own environment
    ]
    paths += glob.glob(
        osp.join(REPO, 'benchmarks', 'replay', 'configs', '*.py'))
    return sorted(p for p in paths if '_base_' not in p)


def _loaders(node, found):
    """Every ``*LoadImageFromFile`` step anywhere in a config."""
    if isinstance(node, dict):
        kind = node.get('type')
        if isinstance(kind, str) and kind.endswith('LoadImageFromFile'):
            found.add(json.dumps(node, sort_keys=True))
        for value in node.values():
            _loaders(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _loaders(value, found)
    return found


def test_every_shipped_loader_reads_16_bit_grey(tmp_path):
    """Each image loader of every shipped config (pre-training, kNN
    monitor, classification, detection, segmentation, replay) reads the
    ramp at mean 127.5; the pre-training configs' pillow loader read it at
    254."""
    import mmcls.datasets  # noqa: F401  (registers mmcls transforms)
    import mmdet.datasets  # noqa: F401  (registers mmdet transforms)
    import mmseg.datasets  # noqa: F401  (registers mmseg transforms)
    path = str(tmp_path / 'grey16.png')
    Image.fromarray(RAMP).save(path)
    checked = set()
    for config in _shipped_configs():
        cfg = Config.fromfile(config)
        scope = cfg.get('default_scope', 'mmselfsup')
        for loader in _loaders(cfg._cfg_dict.to_dict(), set()):
            if (scope, loader) in checked:
                continue
            checked.add((scope, loader))
            with DefaultScope.overwrite_default_scope(scope):
                transform = TRANSFORMS.build(json.loads(loader))
            img = transform(dict(img_path=path))['img']
            assert img.dtype == np.uint8, (config, loader)
            assert img.mean() == pytest.approx(127.5, abs=0.5), \
                (config, loader, img.mean())
    assert {scope
            for scope, _ in checked
            } == {'mmselfsup', 'mmcls', 'mmdet', 'mmseg'}
    assert any('SIMLoadImageFromFile' in loader for _, loader in checked)
