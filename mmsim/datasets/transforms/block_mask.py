# Copyright (c) mmsim contributors. All rights reserved.
"""Block-wise mask with exactly K masked cells, as SIM's release makes it."""
import math
import numbers
import random
from typing import Optional, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from ...hosts import host


@host().TRANSFORMS.register_module()
class SIMBlockMaskGenerator(BaseTransform):
    """BEiT block-wise mask, filled up to exactly K cells, as SIM's release.

    The view-1 mask of `Siamese Image Modeling
    <https://arxiv.org/abs/2206.01204>`_.
    Block phase: rounds of :meth:`place_block` (up to 10 attempts of area
    ``~ U(min_num_patches, remaining)``, log-uniform aspect, ``h, w``
    strictly below the grid, uniform top-left, accepted only if ``0 <
    newly covered <= remaining``) until K cells are masked or a round adds
    nothing. Fill-up phase: random unmasked cells until exactly K are
    masked. Random numbers come from Python's ``random``, as in the release
    and in mmselfsup's ``BEiTMaskGenerator`` (whose rounds these are; its
    ``transform`` instead repeats rounds until it hits K exactly and has no
    fill-up). Ours rather than a host's: mmpretrain's ``BEiTMaskGenerator``
    draws from ``np.random``, so the same seed would give other masks under
    the two hosts; this one gives the same masks under both.

    Added Keys:

    - mask: bool (G_h, G_w), True = masked

    Args:
        input_size (int | Tuple[int, int]): Patch grid (G_h, G_w); an int
            for a square grid. Defaults to 14.
        num_masking_patches (int): K, masked cells per sample; every sample
            masks exactly K. Defaults to 118 (ViT-B release recipe; 75 is the
            release's code default).
        min_num_patches (int): Lower end of a block's area. Defaults to 16.
        max_num_patches (int, optional): Cap on a block's area; None for K.
            Defaults to None.
        min_aspect (float): Lower end of a block's aspect ratio. Defaults to
            0.3.
        max_aspect (float, optional): Upper end; None for
            ``1 / min_aspect``. Defaults to None.

    Examples:
        >>> gen = SIMBlockMaskGenerator(input_size=14, num_masking_patches=75)
        >>> gen(dict())['mask'].sum()
        75
    """

    def __init__(self,
                 input_size: Union[int, Tuple[int, int]] = 14,
                 num_masking_patches: int = 118,
                 min_num_patches: int = 16,
                 max_num_patches: Optional[int] = None,
                 min_aspect: float = 0.3,
                 max_aspect: Optional[float] = None) -> None:
        if isinstance(input_size, int):
            input_size = (input_size, input_size)
        input_size = tuple(input_size)
        if len(input_size) != 2 or min(input_size) <= 0:
            raise ValueError('input_size must be a positive int or (G_h, '
                             f'G_w), got {input_size!r}')
        num_cells = input_size[0] * input_size[1]
        if isinstance(num_masking_patches, bool) or \
                not isinstance(num_masking_patches, numbers.Integral):
            raise ValueError(
                'num_masking_patches is K, the number of masked patches per '
                f'sample (an int), got {num_masking_patches!r}; for a mask '
                f'ratio r of the {input_size[0]} x {input_size[1]} grid set '
                f'round(r * {num_cells})')
        if not 0 < num_masking_patches < num_cells:
            raise ValueError(
                'num_masking_patches must be in (0, G_h * G_w) = (0, '
                f'{num_cells}) for the {input_size[0]} x {input_size[1]} '
                f'grid, got {num_masking_patches!r}')
        if min_num_patches <= 0:
            raise ValueError('min_num_patches must be positive, got '
                             f'{min_num_patches!r}')
        if max_num_patches is not None and max_num_patches <= 0:
            raise ValueError('max_num_patches must be positive or None, got '
                             f'{max_num_patches!r}')
        if min_aspect <= 0 or (max_aspect is not None and max_aspect <= 0):
            raise ValueError('min_aspect and max_aspect must be positive, '
                             f'got {min_aspect!r} and {max_aspect!r}')
        super().__init__()
        self.height, self.width = input_size
        self.num_masking_patches = num_masking_patches
        self.min_num_patches = min_num_patches
        self.max_num_patches = (
            num_masking_patches
            if max_num_patches is None else max_num_patches)
        max_aspect = max_aspect or 1 / min_aspect
        self.log_aspect_ratio = (math.log(min_aspect), math.log(max_aspect))

    def get_shape(self) -> Tuple[int, int]:
        """The grid, ``(G_h, G_w)``."""
        return self.height, self.width

    def place_block(self, mask: np.ndarray, max_cells: int) -> int:
        """One round: up to 10 attempts to cover a random rectangle.

        Args:
            mask (np.ndarray): int64 (G_h, G_w), 1 = masked; updated in
                place.
            max_cells (int): The most cells the round may newly cover.

        Returns:
            int: Cells newly covered (0 when every attempt failed).
        """
        for _ in range(10):
            area = random.uniform(self.min_num_patches, max_cells)
            aspect = math.exp(random.uniform(*self.log_aspect_ratio))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if h >= self.height or w >= self.width:
                continue
            top = random.randint(0, self.height - h)
            left = random.randint(0, self.width - w)
            block = mask[top:top + h, left:left + w]
            newly = h * w - int(block.sum())
            if 0 < newly <= max_cells:
                block[...] = 1
                return newly
        return 0

    def block_phase(self) -> np.ndarray:
        """Place blocks until K cells are masked or a round adds nothing.

        Returns:
            np.ndarray: int64 (G_h, G_w), 1 = masked, at most K ones.
        """
        mask = np.zeros(self.get_shape(), dtype=np.int64)
        count = 0
        while count < self.num_masking_patches:
            remaining = min(self.num_masking_patches - count,
                            self.max_num_patches)
            delta = self.place_block(mask, remaining)
            if delta == 0:
                break
            count += delta
        return mask

    def fill_up(self, mask: np.ndarray) -> np.ndarray:
        """Mask random unmasked cells until exactly K are masked.

        Args:
            mask (np.ndarray): (G_h, G_w), nonzero = masked, at most K.

        Returns:
            np.ndarray: bool (G_h, G_w) with exactly K True.
        """
        mask = mask.astype(bool)
        missing = self.num_masking_patches - int(mask.sum())
        if missing > 0:
            unmasked = np.flatnonzero(~mask).tolist()
            mask.flat[random.sample(unmasked, missing)] = True
        return mask

    def transform(self, results: dict) -> dict:
        """Draw a mask for view 1.

        Args:
            results (dict): Result dict from the previous transforms.

        Returns:
            dict: With 'mask', bool (G_h, G_w), exactly K True.
        """
        results['mask'] = self.fill_up(self.block_phase())
        return results

    def __repr__(self) -> str:
        repr_str = self.__class__.__name__
        repr_str += f'(input_size={self.get_shape()}, '
        repr_str += f'num_masking_patches={self.num_masking_patches}, '
        repr_str += f'min_num_patches={self.min_num_patches}, '
        repr_str += f'max_num_patches={self.max_num_patches}, '
        repr_str += f'log_aspect_ratio={self.log_aspect_ratio})'
        return repr_str
