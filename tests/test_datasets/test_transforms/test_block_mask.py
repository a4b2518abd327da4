# Copyright (c) mmsim contributors. All rights reserved.
"""SIMBlockMaskGenerator: block phase as docs/method.md §1, then exactly K."""
import math
import random
import re

import numpy as np
import pytest

from mmsim.datasets.transforms import SIMBlockMaskGenerator


def spec_block_phase(grid: int, num_masked: int) -> np.ndarray:
    """docs/method.md §1's block-wise rounds, written from its text.

    Draws from ``random`` in the release's order: area, aspect, then top
    and left only for a block that fits.
    """
    mask = np.zeros((grid, grid), bool)
    while mask.sum() < num_masked:
        remaining = num_masked - int(mask.sum())
        added = 0
        for _ in range(10):
            area = random.uniform(16, remaining)
            aspect = math.exp(random.uniform(math.log(0.3), math.log(1 / 0.3)))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if h < grid and w < grid:
                top = random.randint(0, grid - h)
                left = random.randint(0, grid - w)
                block = mask[top:top + h, left:left + w]
                new = int((~block).sum())
                if 0 < new <= remaining:
                    block[...] = True
                    added = new
                    break
        if added == 0:
            break
    return mask


@pytest.mark.parametrize('num_masked', [75, 118])
def test_block_phase_matches_spec(num_masked):
    gen = SIMBlockMaskGenerator(input_size=14, num_masking_patches=num_masked)
    for seed in range(200):
        random.seed(seed)
        ours = gen.block_phase()
        random.seed(seed)
        np.testing.assert_array_equal(
            ours.astype(bool), spec_block_phase(14, num_masked))


@pytest.mark.parametrize('num_masked, draws', [(1, 200), (16, 200), (75, 2000),
                                               (118, 2000), (195, 200)])
def test_exactly_k_masked(num_masked, draws):
    gen = SIMBlockMaskGenerator(input_size=14, num_masking_patches=num_masked)
    for _ in range(draws):
        mask = gen(dict())['mask']
        assert mask.shape == (14, 14) and mask.dtype == np.bool_
        assert mask.sum() == num_masked


def test_block_phase_statistics_k118():
    """Spec: the block phase alone reaches K = 118 in about 69% of draws,
    never fewer than about 109."""
    gen = SIMBlockMaskGenerator(input_size=14, num_masking_patches=118)
    counts = np.array([gen.block_phase().sum() for _ in range(2000)])
    assert counts.max() <= 118
    assert 0.60 < (counts == 118).mean() < 0.78
    assert counts.min() >= 100


def test_fill_up_keeps_the_blocks():
    gen = SIMBlockMaskGenerator(input_size=14, num_masking_patches=118)
    for seed in range(50):
        random.seed(seed)
        blocks = gen.block_phase().astype(bool)
        mask = gen.fill_up(blocks)
        assert (mask[blocks]).all() and mask.sum() == 118


def test_masks_are_blocky():
    """Masked cells cluster: far more masked 4-neighbour pairs than for a
    random mask with the same K."""
    gen = SIMBlockMaskGenerator(input_size=14, num_masking_patches=75)

    def pairs(mask):
        return ((mask[1:] & mask[:-1]).sum() + (mask[:, 1:]
                                                & mask[:, :-1]).sum())

    rng = np.random.default_rng(0)
    ours, uniform = [], []
    for _ in range(200):
        ours.append(pairs(gen(dict())['mask']))
        flat = np.zeros(196, bool)
        flat[rng.choice(196, 75, replace=False)] = True
        uniform.append(pairs(flat.reshape(14, 14)))
    assert np.mean(ours) > 1.5 * np.mean(uniform)


def test_reproducible_from_python_seed():
    gen = SIMBlockMaskGenerator()
    random.seed(123)
    first = [gen(dict())['mask'] for _ in range(5)]
    random.seed(123)
    second = [gen(dict())['mask'] for _ in range(5)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_rounds_are_mmselfsups_beit_rounds():
    """Same seed, same rounds as mmselfsup's BEiTMaskGenerator (where
    mmselfsup is the host; mmpretrain's draws from numpy instead)."""
    transforms = pytest.importorskip('mmselfsup.datasets.transforms')
    ours = SIMBlockMaskGenerator(input_size=(7, 9), num_masking_patches=30)
    theirs = transforms.BEiTMaskGenerator(
        input_size=(7, 9), num_masking_patches=30, min_num_patches=16)
    for seed in range(20):
        mask_ours = np.zeros((7, 9), np.int64)
        mask_theirs = np.zeros((7, 9), np.int64)
        random.seed(seed)
        added_ours = [ours.place_block(mask_ours, 30 - k) for k in (0, 5)]
        random.seed(seed)
        added_theirs = [theirs._mask(mask_theirs, 30 - k) for k in (0, 5)]
        assert added_ours == added_theirs
        np.testing.assert_array_equal(mask_ours, mask_theirs)


def test_rectangular_grid_and_defaults():
    gen = SIMBlockMaskGenerator(input_size=(7, 9), num_masking_patches=30)
    assert gen(dict())['mask'].shape == (7, 9)
    assert gen(dict())['mask'].sum() == 30
    default = SIMBlockMaskGenerator()
    assert default.get_shape() == (14, 14)
    assert default.num_masking_patches == 118
    assert default.min_num_patches == 16


@pytest.mark.parametrize('num_masked', [0, -3, 196, 250])
def test_bad_k_raises(num_masked):
    with pytest.raises(ValueError, match=re.escape(repr(num_masked))):
        SIMBlockMaskGenerator(input_size=14, num_masking_patches=num_masked)
    with pytest.raises(ValueError, match='14 x 14'):
        SIMBlockMaskGenerator(input_size=14, num_masking_patches=num_masked)


@pytest.mark.parametrize('kwargs', [
    dict(input_size=0),
    dict(min_num_patches=0),
    dict(max_num_patches=0),
    dict(min_aspect=0.),
    dict(max_aspect=-1.),
])
def test_bad_args_raise(kwargs):
    with pytest.raises(ValueError):
        SIMBlockMaskGenerator(**kwargs)


def test_repr():
    text = repr(SIMBlockMaskGenerator(num_masking_patches=75))
    assert text.startswith('SIMBlockMaskGenerator(input_size=(14, 14)')
    assert 'num_masking_patches=75' in text
