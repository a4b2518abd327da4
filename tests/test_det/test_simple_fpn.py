# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch
from mmdet.registry import MODELS

from mmsim.det import SIMLayerNorm2d, SIMSimpleFPN


def test_registered_in_mmdet():
    assert MODELS.get('SIMSimpleFPN') is SIMSimpleFPN
    assert MODELS.get('SIMLayerNorm2d') is SIMLayerNorm2d


def test_pyramid_strides_and_widths():
    neck = SIMSimpleFPN(in_channels=32, out_channels=16)
    feature = torch.randn(2, 32, 8, 6)  # stride 16 of a 128 x 96 image
    outs = neck((feature, ))
    # strides 4, 8, 16, 32 and the max-pooled 64
    assert [o.shape[-2:] for o in outs] == [(32, 24), (16, 12), (8, 6), (4, 3),
                                            (2, 2)]
    assert all(o.shape[:2] == (2, 16) for o in outs)
    torch.testing.assert_close(outs[4], outs[3][:, :, ::2, ::2])
    sum(o.sum() for o in outs).backward()


def test_convs_use_layer_norm():
    neck = SIMSimpleFPN(in_channels=32, out_channels=16)
    norms = [m for m in neck.modules() if isinstance(m, SIMLayerNorm2d)]
    # 1 in the 4x deconv stage + (1x1, 3x3) per level
    assert len(norms) == 1 + 2 * 4
    assert neck.lateral_convs[0].conv.bias is None  # norm follows


def test_errors():
    with pytest.raises(ValueError, match='scale factor'):
        SIMSimpleFPN(in_channels=32, scale_factors=(3., ), num_outs=1)
    with pytest.raises(ValueError, match='num_outs'):
        SIMSimpleFPN(in_channels=32, num_outs=3)
