# Copyright (c) mmsim contributors. All rights reserved.
"""Decode 16-bit images to 8 bits the way OpenCV does.

Pillow opens a 16-bit grey PNG or TIFF in mode ``'I;16'`` (or ``'I'``), and
``Image.convert('RGB')``, which mmcv's pillow backend calls, clips every
value above 255: a gradient from 0 to 65535 arrives 99.6 % pure white.
OpenCV's ``IMREAD_COLOR`` instead keeps the top 8 bits (``v >> 8``). The
helpers here give the pillow path the same result.
"""
import io
from typing import Optional

import numpy as np
from PIL import Image, ImageOps


class UnsupportedBitDepthError(ValueError):
    """An image whose samples have no standard scale to 8 bits."""


#: Pillow modes whose samples do not fit in 8 bits.
HIGH_BIT_MODES = ('I;16', 'I;16L', 'I;16B', 'I;16N', 'I', 'F')


def uint16_to_uint8(array: np.ndarray) -> np.ndarray:
    """Keep the top 8 bits of 16-bit samples, as OpenCV does.

    Args:
        array (np.ndarray): Samples in ``[0, 65535]``, any shape and
            integer dtype.

    Returns:
        np.ndarray: ``array >> 8`` as uint8, same shape.
    """
    return (array.astype(np.uint32) >> 8).astype(np.uint8)


def pillow_high_bit_depth_to_array(content: bytes,
                                   flag: str = 'color'
                                   ) -> Optional[np.ndarray]:
    """Decode a high-bit-depth grey image with Pillow, scaled to 8 bits.

    Only the header is read for other images, which mmcv decodes as usual
    (Pillow already reduces 16-bit RGB and RGBA PNGs to 8 bits correctly).

    Args:
        content (bytes): The encoded file.
        flag (str): mmcv's ``color_type``: 'color' (EXIF orientation
            applied, 3 channels), 'grayscale' (EXIF applied, 1 channel),
            'unchanged', 'color_ignore_orientation' or
            'grayscale_ignore_orientation'. Defaults to 'color'.

    Returns:
        np.ndarray, optional: uint8 (H, W, 3) for the colour flags (grey,
        hence the same in BGR and RGB order), (H, W) otherwise; None when
        the image is not in one of :data:`HIGH_BIT_MODES`.

    Raises:
        UnsupportedBitDepthError: A floating-point image (mode ``'F'``), or
            a 32-bit integer one with values outside ``[0, 65535]``: no
            standard scale to 8 bits.
    """
    with io.BytesIO(content) as buff:
        image = Image.open(buff)
        if image.mode not in HIGH_BIT_MODES:
            return None
        if image.mode == 'F':
            raise UnsupportedBitDepthError(
                'a floating-point image (Pillow mode F) has no standard '
                'scale to 8 bits: save it as an 8- or 16-bit image')
        if flag in ('color', 'grayscale'):
            image = ImageOps.exif_transpose(image)
        samples = np.asarray(image)
    if samples.size and (samples.min() < 0 or samples.max() > 65535):
        raise UnsupportedBitDepthError(
            f'a 32-bit integer image with values in [{samples.min()}, '
            f'{samples.max()}]; expected at most 16 bits ([0, 65535]): '
            'save it as an 8- or 16-bit image')
    grey = uint16_to_uint8(samples)
    if flag.startswith('color'):
        return np.repeat(grey[:, :, None], 3, axis=2)
    return grey
