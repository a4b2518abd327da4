# Copyright (c) mmsim contributors. All rights reserved.
"""Image loading whose decoding errors name the file."""
from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmselfsup.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SIMLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` with errors that name the file.

    With ``imdecode_backend='pillow'`` a truncated or corrupt file makes
    mmcv raise Pillow's bare ``OSError('image file is truncated ...')``,
    which does not say which of a million files is broken. This loader
    re-raises it as an ``OSError`` naming ``img_path`` (the original error
    is chained). Everything else, ``ignore_empty`` included, is mmcv's.

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
        try:
            return super().transform(results)
        except Exception as error:
            raise OSError(
                f'could not load image {results.get("img_path")!r} '
                f'({type(error).__name__}: {error}); the file is probably '
                'truncated or corrupt: re-download or remove it') from error
