# Copyright (c) mmsim contributors. All rights reserved.
"""The shipped loader (``sim_pipeline.py``'s ``load_image``) on the image
modes of the bad-input matrix, pixel by pixel against colours written by
hand; a missing and an empty file are named with what is wrong."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmselfsup.registry import TRANSFORMS
from PIL import Image

SIM_PIPELINE = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'configs', 'sim', '_base_',
    'sim_pipeline.py')
RED, BLUE = (255, 0, 0), (0, 0, 255)


@pytest.fixture(scope='module')
def load():
    return TRANSFORMS.build(Config.fromfile(SIM_PIPELINE).load_image)


def bgr(rgb):
    return list(rgb[::-1])


def test_cmyk_jpeg_is_read_as_its_rgb_colour(tmp_path, load):
    path = str(tmp_path / 'cmyk.jpg')
    Image.new('RGB', (40, 30), (200, 100, 50)).convert('CMYK').save(
        path, quality=95)
    assert Image.open(path).mode == 'CMYK'
    img = load(dict(img_path=path))['img']
    assert img.shape == (30, 40, 3) and img.dtype == np.uint8
    # BGR, as every mmcv loader; JPEG keeps a flat colour within 2 levels
    np.testing.assert_allclose(img[15, 20], bgr((200, 100, 50)), atol=2)


def test_palette_png_with_transparency_keeps_its_palette_colours(
        tmp_path, load):
    """Index 0 (red) is transparent: the alpha is dropped and the palette
    colour kept, as ``PIL.Image.convert('RGB')`` (torchvision's loader)."""
    path = str(tmp_path / 'palette.png')
    image = Image.new('P', (4, 2))
    image.putpalette(list(RED) + list(BLUE) + [0] * 762)
    image.putdata([0, 1, 0, 1, 1, 0, 1, 0])
    image.save(path, transparency=0)
    assert Image.open(path).info['transparency'] == 0
    img = load(dict(img_path=path))['img']
    assert img.shape == (2, 4, 3)
    assert img[0].tolist() == [bgr(RED), bgr(BLUE)] * 2
    assert img[1].tolist() == [bgr(BLUE), bgr(RED)] * 2


def test_rgba_png_drops_the_alpha(tmp_path, load):
    path = str(tmp_path / 'rgba.png')
    pixels = np.zeros((2, 2, 4), np.uint8)
    pixels[..., :3] = (10, 20, 30)
    pixels[..., 3] = [[0, 128], [200, 255]]
    Image.fromarray(pixels, 'RGBA').save(path)
    img = load(dict(img_path=path))['img']
    assert img.tolist() == [[bgr((10, 20, 30))] * 2] * 2


def test_grayscale_jpeg_gets_three_equal_channels(tmp_path, load):
    path = str(tmp_path / 'grey.jpg')
    grey = np.full((32, 32), 40, np.uint8)
    grey[:, 16:] = 200
    Image.fromarray(grey).save(path, quality=95)
    assert Image.open(path).mode == 'L'
    img = load(dict(img_path=path))['img']
    assert img.shape == (32, 32, 3)
    assert (img[..., 0] == img[..., 1]).all()
    assert (img[..., 0] == img[..., 2]).all()
    # away from the edge JPEG keeps the flat halves within 2 levels
    np.testing.assert_allclose(img[4:28, 2:12, 0], 40, atol=2)
    np.testing.assert_allclose(img[4:28, 20:30, 0], 200, atol=2)


@pytest.mark.parametrize('orientation,turns', [(3, 2), (6, -1), (8, 1)])
def test_exif_orientation_is_honoured(tmp_path, load, orientation, turns):
    """The image arrives as displayed: EXIF 6 is 90 degrees clockwise, 8
    counter-clockwise and 3 a half turn (``np.rot90`` turns
    counter-clockwise), as ``ImageOps.exif_transpose`` gives
    torchvision/PIL users."""
    stored = np.zeros((32, 48, 3), np.uint8)
    stored[:16, :16] = 255  # a white block in the stored top-left corner
    path = str(tmp_path / f'rotated{orientation}.jpg')
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    img = load(dict(img_path=path))['img']
    expected = np.rot90(stored, turns)
    assert img.shape == expected.shape
    assert ((img > 128) == (expected > 128)).mean() > 0.99


def test_a_missing_file_is_named_as_missing(tmp_path, load):
    path = str(tmp_path / 'train' / 'gone.jpg')
    with pytest.raises(FileNotFoundError) as info:
        load(dict(img_path=path))
    message = str(info.value)
    assert f"could not load image '{path}': the file does not exist" in \
        message
    assert 'data_prefix' in message and 'truncated' not in message


def test_an_empty_file_is_named_as_empty(tmp_path, load):
    path = tmp_path / 'empty.jpg'
    path.write_bytes(b'')
    with pytest.raises(OSError, match=f"'{path}'.*empty \\(0 bytes\\)"):
        load(dict(img_path=str(path)))


def test_a_text_file_is_named_without_a_buffer_address(tmp_path, load):
    path = tmp_path / 'notes.jpg'
    path.write_text('not an image\n')
    with pytest.raises(OSError) as info:
        load(dict(img_path=str(path)))
    message = str(info.value)
    assert f"could not load image '{path}'" in message
    assert 'not an image file Pillow can read' in message
    assert 'BytesIO' not in message
