# Copyright (c) mmsim contributors. All rights reserved.
"""SIMColorJitter: mmselfsup's jitter, pixel for pixel, without mmcv's
pillow-backend warning."""
import warnings

import numpy as np
from mmselfsup.datasets.transforms import ColorJitter
from mmselfsup.registry import TRANSFORMS

from mmsim.datasets.transforms import SIMColorJitter
from mmsim.datasets.transforms.colour_jitter import PILLOW_ALPHA_WARNING

ARGS = dict(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)


def _jitter(transform, img, seed):
    np.random.seed(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        out = transform.transform(dict(img=img.copy()))['img']
    return out, [str(w.message) for w in caught]


def test_same_pixels_as_mmselfsup_and_no_warning():
    img = np.random.RandomState(0).randint(0, 256, (24, 20, 3), dtype=np.uint8)
    ours = TRANSFORMS.build(dict(type='SIMColorJitter', **ARGS))
    assert isinstance(ours, SIMColorJitter)
    theirs = ColorJitter(**ARGS)
    filters = list(warnings.filters)
    for seed in range(4):
        expected, their_warnings = _jitter(theirs, img, seed)
        out, our_warnings = _jitter(ours, img, seed)
        assert warnings.filters == filters  # nothing silenced after it
        np.testing.assert_array_equal(out, expected)
        assert not np.array_equal(out, img)
        assert their_warnings == [PILLOW_ALPHA_WARNING]  # what it silences
        assert our_warnings == []
