# Copyright (c) mmsim contributors. All rights reserved.
"""The images and per-pixel labels the dense probe reads: a folder of
images and a folder of single-channel label PNGs with the same stems
(mmseg's ``img_dir`` / ``ann_dir`` layout), e.g. the generated set's
``det/train`` and ``det/labels/train``. A file that does not decode stops
with the pre-training loader's error naming it."""
import os
import os.path as osp
from typing import List, NamedTuple, Optional

import mmcv
import numpy as np
import torch

from mmsim.datasets.transforms.load_image import load_error

_IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


class DenseProbeSet(NamedTuple):
    """Images and per-pixel labels of a dense-probe split.

    Attributes:
        images (torch.Tensor): (N, 3, H, W) uint8, BGR (as mmcv reads).
        label_maps (torch.Tensor): (N, H, W) int64 class per pixel.
        names (list[str]): File stems, in order.
    """
    images: torch.Tensor
    label_maps: torch.Tensor
    names: List[str]


def load_dense_probe_set(img_dir: str,
                         ann_dir: str,
                         img_size: Optional[int] = None,
                         max_images: Optional[int] = None) -> DenseProbeSet:
    """Read an image folder and its label-PNG folder.

    Args:
        img_dir (str): Folder of images (jpg/png/bmp).
        ann_dir (str): Folder of ``<stem>.png`` label maps, one integer
            class per pixel.
        img_size (int, optional): Resize both to this square side
            (bilinear / nearest). Defaults to the files' own size, which
            must then be the same for all.
        max_images (int, optional): Use only the first this many images
            (sorted by name). Defaults to all.

    Returns:
        DenseProbeSet: The split.
    """
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'dense probe: image folder {img_dir!r} '
                                'does not exist')
    names = sorted(
        osp.splitext(f)[0] for f in os.listdir(img_dir)
        if f.lower().endswith(_IMG_EXTENSIONS))
    if max_images is not None:
        names = names[:max_images]
    if not names:
        raise ValueError(f'dense probe: no images in {img_dir!r}')
    by_stem = {
        osp.splitext(f)[0]: f
        for f in os.listdir(img_dir) if f.lower().endswith(_IMG_EXTENSIONS)
    }
    images, label_maps = [], []
    for name in names:
        ann_path = osp.join(ann_dir, name + '.png')
        if not osp.isfile(ann_path):
            raise FileNotFoundError(
                f'dense probe: no label map {ann_path!r} for image '
                f'{osp.join(img_dir, by_stem[name])!r}')
        img = _imread(osp.join(img_dir, by_stem[name]), 'color')
        label = _imread(ann_path, 'unchanged')
        if label.ndim != 2:
            raise ValueError(f'dense probe: {ann_path!r} must be a '
                             f'single-channel PNG, got shape {label.shape}')
        if img.shape[:2] != label.shape:
            raise ValueError(f'dense probe: {ann_path!r} is {label.shape} '
                             f'but its image is {img.shape[:2]}')
        if img_size is not None:
            img = mmcv.imresize(img, (img_size, img_size))
            label = mmcv.imresize(
                label, (img_size, img_size), interpolation='nearest')
        if images and img.shape != images[0].shape:
            raise ValueError(f'dense probe: {name} is {img.shape[:2]}, the '
                             f'first image {images[0].shape[:2]}: set '
                             'img_size to resize all to one size')
        images.append(img)
        label_maps.append(label)
    images = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    label_maps = torch.from_numpy(np.stack(label_maps).astype(np.int64))
    return DenseProbeSet(images.contiguous(), label_maps, names)


def _imread(path: str, flag: str) -> np.ndarray:
    """mmcv's ``imread``, with the pre-training loader's error naming a
    file that does not decode."""
    try:
        img = mmcv.imread(path, flag)
    except Exception as error:
        raise load_error(path, error) from error
    if img is None:  # cv2 returns None for bytes it cannot decode
        raise load_error(path, ValueError('the decoder returned no image'))
    return img
