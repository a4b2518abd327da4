# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import DefaultScope

from mmsim.models.necks import LinearProbeNeck
from tests._host import HOST, HOST_NAME


def test_matches_pool_layernorm_batchnorm_formula():
    neck = LinearProbeNeck(in_channels=6).train()
    maps = torch.randn(5, 6, 3, 3) * 4 + 1
    (out, ) = neck((maps, ))
    assert out.shape == (5, 6)
    pooled = maps.mean(dim=(2, 3))
    # LayerNorm with weight 1 / bias 0, eps 1e-6, over channels.
    mu = pooled.mean(1, keepdim=True)
    var = pooled.var(1, unbiased=False, keepdim=True)
    ln = (pooled - mu) / torch.sqrt(var + 1e-6)
    # BatchNorm without affine, batch statistics in training.
    bn = (ln - ln.mean(0)) / torch.sqrt(ln.var(0, unbiased=False) + 1e-6)
    torch.testing.assert_close(out, bn, atol=1e-5, rtol=1e-5)


def test_has_no_parameters_and_pooled_input_is_accepted():
    neck = LinearProbeNeck(in_channels=4)
    assert list(neck.parameters()) == []  # LN frozen at 1 / 0, BN affine-free
    neck.eval()  # running statistics: mean 0, var 1 at init
    feats = torch.randn(3, 4)
    (out, ) = neck((feats, ))
    expected = torch.nn.functional.layer_norm(feats, (4, ), eps=1e-6)
    torch.testing.assert_close(out, expected / (1 + 1e-6)**0.5)


def test_registered_and_built_from_the_classification_scope():
    """From mmcls's scope (by mmselfsup's name) or from mmpretrain's."""
    from mmengine.registry import MODELS
    name = ('mmselfsup.LinearProbeNeck'
            if HOST_NAME == 'mmselfsup' else 'LinearProbeNeck')
    with DefaultScope.overwrite_default_scope(HOST.CLS_SCOPE):
        neck = MODELS.build(dict(type=name, in_channels=8))
    assert isinstance(neck, LinearProbeNeck)


def test_errors_name_the_problem():
    neck = LinearProbeNeck(in_channels=4)
    with pytest.raises(ValueError, match='got 5 channels'):
        neck((torch.randn(2, 5, 2, 2), ))
    with pytest.raises(ValueError, match=r'got \(2, 3, 4\)'):
        neck((torch.randn(2, 3, 4), ))
