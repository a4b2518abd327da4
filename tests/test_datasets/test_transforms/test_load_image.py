# Copyright (c) mmsim contributors. All rights reserved.
"""SIMLoadImageFromFile: a broken file is named in the error."""
import numpy as np
import pytest
from PIL import Image

from mmsim.datasets.transforms import SIMLoadImageFromFile, SIMTwoViewCrop


@pytest.fixture
def truncated_jpeg(tmp_path) -> str:
    """A JPEG cut to half its bytes."""
    rng = np.random.default_rng(0)
    path = tmp_path / 'whole.jpg'
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8)).save(path)
    data = path.read_bytes()
    cut = tmp_path / 'cut.jpg'
    cut.write_bytes(data[:len(data) // 2])
    return str(cut)


def test_truncated_jpeg_error_names_the_file(truncated_jpeg):
    # mmcv's own loader raises Pillow's bare "image file is truncated",
    # without the path; ours adds it.
    load = SIMLoadImageFromFile(imdecode_backend='pillow')
    with pytest.raises(OSError) as info:
        SIMTwoViewCrop()(load(dict(img_path=truncated_jpeg)))
    assert truncated_jpeg in str(info.value)
    assert 'truncated' in str(info.value)


def test_ignore_empty_still_skips(truncated_jpeg):
    load = SIMLoadImageFromFile(imdecode_backend='pillow', ignore_empty=True)
    assert load(dict(img_path=truncated_jpeg)) is None


@pytest.mark.parametrize('mode', ['L', 'RGBA'])
def test_gray_and_rgba_files_load_as_colour(tmp_path, mode):
    path = str(tmp_path / 'x.png')
    Image.new(mode, (40, 30)).save(path)
    results = SIMLoadImageFromFile(imdecode_backend='pillow')(
        dict(img_path=path))
    assert results['img'].shape == (30, 40, 3)
    results = SIMTwoViewCrop(size=32)(results)
    assert results['img'][0].shape == (32, 32, 3)


def test_unchanged_gray_file_gets_a_clear_error(tmp_path):
    path = str(tmp_path / 'gray.png')
    Image.new('L', (40, 30)).save(path)
    results = SIMLoadImageFromFile(color_type='unchanged')(dict(img_path=path))
    with pytest.raises(ValueError, match='gray.png.*\\(30, 40\\)'):
        SIMTwoViewCrop()(results)


@pytest.mark.parametrize('mode,ext', [('CMYK', 'jpg'), ('P', 'png'),
                                      ('LA', 'png'), ('RGBA', 'png')])
def test_other_modes_load_as_8_bit_colour(tmp_path, mode, ext):
    path = str(tmp_path / f'x.{ext}')
    Image.new('RGB', (40, 30), (200, 100, 50)).convert(mode).save(path)
    img = SIMLoadImageFromFile(imdecode_backend='pillow')(
        dict(img_path=path))['img']
    assert img.dtype == np.uint8 and img.shape == (30, 40, 3)


def test_exif_orientation_is_applied(tmp_path):
    path = str(tmp_path / 'rotated.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated by 90 degrees
    Image.new('RGB', (40, 30)).save(path, exif=exif)
    img = SIMLoadImageFromFile(imdecode_backend='pillow')(
        dict(img_path=path))['img']
    assert img.shape == (40, 30, 3)


@pytest.mark.parametrize('content', [b'', b'not an image\n'])
@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
def test_empty_and_text_files_are_named(tmp_path, content, backend):
    path = tmp_path / 'bad.jpg'
    path.write_bytes(content)
    with pytest.raises(OSError, match='bad.jpg'):
        SIMLoadImageFromFile(imdecode_backend=backend)(
            dict(img_path=str(path)))
