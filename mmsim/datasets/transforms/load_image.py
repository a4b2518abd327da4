# Copyright (c) mmsim contributors. All rights reserved.
"""Image loading whose decoding errors name the file and which reads
16-bit images as 8-bit ones."""
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import LoadImageFromFile
from PIL import UnidentifiedImageError

from ...hosts import host
from .high_bit_depth import (UnsupportedBitDepthError,
                             pillow_high_bit_depth_to_array, uint16_to_uint8)


def load_error(filename: str, error: Exception) -> OSError:
    """The error to raise for a file that could not be loaded.

    Args:
        filename (str): The image path.
        error (Exception): What reading or decoding it raised.

    Returns:
        OSError: Naming ``filename`` and what is wrong with it: a
        ``FileNotFoundError`` for a missing file, otherwise an ``OSError``
        (unreadable bit depth, or a truncated / corrupt / non-image file).
    """
    if isinstance(error, FileNotFoundError):
        return FileNotFoundError(
            f'could not load image {filename!r}: the file does not exist; '
            'check data_root and data_prefix against the paths the '
            'annotation file lists')
    if isinstance(error, UnsupportedBitDepthError):
        return OSError(f'could not load image {filename!r}: {error}')
    detail = f'{type(error).__name__}: {error}'
    if isinstance(error, UnidentifiedImageError):  # its text names a buffer
        detail = f'{type(error).__name__}: not an image file Pillow can read'
    return OSError(f'could not load image {filename!r} ({detail}); the file '
                   'is probably truncated or corrupt: re-download or remove '
                   'it')


@host().TRANSFORMS.register_module()
class SIMLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` with errors that name the file and
    16-bit images scaled to 8 bits.

    With ``imdecode_backend='pillow'`` a truncated or corrupt file makes
    mmcv raise Pillow's bare ``OSError('image file is truncated ...')``,
    which does not say which of a million files is broken. This loader
    re-raises it as an ``OSError`` naming ``img_path`` (the original error
    is chained); a missing file as a ``FileNotFoundError`` that says so,
    and an empty file as one "empty (0 bytes)" (see :func:`load_error`).

    mmcv's pillow path also clips 16-bit grey images (Pillow mode
    ``'I;16'``) to 255, so they arrive almost white; here they keep their
    top 8 bits, as mmcv's cv2 path does (see :mod:`.high_bit_depth`), and
    a 16-bit array from any backend (e.g. cv2 with ``'unchanged'``) is
    scaled the same way. Everything else, ``ignore_empty`` included, is
    mmcv's.

    Args:
        **kwargs: Arguments of :class:`mmcv.transforms.LoadImageFromFile`.

    Examples:
        >>> load = SIMLoadImageFromFile(imdecode_backend='pillow')
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']`` as (H, W, C) ``results['img']``.

        Args:
            results (dict): Holds 'img_path'.

        Returns:
            dict, optional: With 'img', 'img_shape' and 'ori_shape'; None
            for an unreadable file when ``ignore_empty``.
        """
        filename = results['img_path']
        try:
            img = self._decode(self._read(filename))
        except Exception as error:
            if self.ignore_empty:
                return None
            raise load_error(filename, error) from error
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _read(self, filename: str) -> bytes:
        """The file's bytes, through mmcv's file client or backend args."""
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args,
                                                    filename)
            return client.get(filename)
        return fileio.get(filename, backend_args=self.backend_args)

    def _decode(self, content: bytes) -> np.ndarray:
        """mmcv's decoding, with 16-bit images scaled to uint8.

        Returns:
            np.ndarray: uint8 (H, W, C), or (H, W) for grey flags.
        """
        if not content:
            raise ValueError('the file is empty (0 bytes)')
        img = None
        if self.imdecode_backend == 'pillow':
            img = pillow_high_bit_depth_to_array(content, self.color_type)
        if img is None:
            img = mmcv.imfrombytes(
                content, flag=self.color_type, backend=self.imdecode_backend)
        if img is None:  # cv2 returns None for bytes it cannot decode
            raise ValueError('the decoder returned no image')
        if img.dtype == np.uint16:
            img = uint16_to_uint8(img)
        return img
