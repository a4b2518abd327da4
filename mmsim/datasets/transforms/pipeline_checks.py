# Copyright (c) mmsim contributors. All rights reserved.
"""Views and masks that do not fit the backbone, found before training.

Without this check a crop size other than the backbone's ``img_size``
stops the first iteration with ``SIMViT was built for (96, 96) inputs, got
images of (64, 64)`` and a mask on another grid with ``mask has 196 cells
per sample but there are 36 patch tokens``: after the data is loaded, and
without the config keys to change.
"""
from typing import Iterator

from .block_mask import SIMBlockMaskGenerator
from .two_view_crop import SIMTwoViewCrop


def pipeline_transforms(dataset) -> Iterator:
    """The transforms of a dataset's pipeline and of those it wraps.

    Args:
        dataset: A built dataset; wrappers are followed through their
            ``dataset`` (e.g. ``RepeatDataset``) or ``datasets`` (e.g.
            ``ConcatDataset``).

    Yields:
        The built transforms, in pipeline order.
    """
    pipeline = getattr(dataset, 'pipeline', None)
    yield from getattr(pipeline, 'transforms', None) or ()
    inner = getattr(dataset, 'dataset', None)
    if inner is not None:
        yield from pipeline_transforms(inner)
    for inner in getattr(dataset, 'datasets', None) or ():
        yield from pipeline_transforms(inner)


def check_views_fit_backbone(dataset, img_size: int, grid_size: int) -> None:
    """Refuse SIM views or masks another size than the backbone's.

    Args:
        dataset: The built training dataset (wrappers are followed).
        img_size (int): The backbone's input side (``img_size``).
        grid_size (int): Its patch grid side, ``img_size / patch_size``.

    Raises:
        ValueError: A ``SIMTwoViewCrop`` whose ``size`` is not
            ``img_size``, or a ``SIMBlockMaskGenerator`` whose
            ``input_size`` is not ``(grid_size, grid_size)``; naming both
            keys and their values.
    """
    patch_size = img_size // grid_size
    for transform in pipeline_transforms(dataset):
        if isinstance(transform, SIMTwoViewCrop) and \
                transform.size != img_size:
            raise ValueError(
                f'the training pipeline\'s SIMTwoViewCrop size='
                f'{transform.size} makes {transform.size} x {transform.size}'
                f' views, but model.backbone.img_size={img_size}: set them '
                f'equal (a {img_size} px backbone has a {grid_size} x '
                f'{grid_size} grid of {patch_size} px patches; keep the '
                'neck\'s grid_size and the mask\'s input_size on its grid)')
        if isinstance(transform, SIMBlockMaskGenerator) and \
                transform.get_shape() != (grid_size, grid_size):
            shape = transform.get_shape()
            raise ValueError(
                f'the training pipeline\'s SIMBlockMaskGenerator input_size='
                f'{shape} masks a {shape[0]} x {shape[1]} grid, but the '
                f'backbone has a {grid_size} x {grid_size} patch grid '
                f'(model.backbone.img_size={img_size} / patch_size='
                f'{patch_size}): set input_size={grid_size} and '
                f'num_masking_patches below {grid_size * grid_size}')
