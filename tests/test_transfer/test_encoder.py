# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.encoder: one selection of the online encoder, from
either source, with or without the cls token."""
import pytest

from mmsim.transfer import select_encoder, vit_encoder_keys
from ..test_det._release_checkpoint import fake_release_state
from ..test_det._sim_checkpoint import build_sim, tiny_sim_model_cfg
from ._tiny import DEPTH, HEADS, WIDTH, release_kwargs


@pytest.mark.parametrize('source', ['sim', 'release'])
@pytest.mark.parametrize('keep_cls_token', [False, True])
def test_both_sources_give_the_mmcls_vit_keys(source, keep_cls_token):
    state = build_sim(
        tiny_sim_model_cfg(
            embed_dims=WIDTH, num_layers=DEPTH,
            num_heads=HEADS)).state_dict() if source == 'sim' else \
        fake_release_state(**release_kwargs())
    conversion = select_encoder(state, source, keep_cls_token)
    expected = vit_encoder_keys(DEPTH)
    if keep_cls_token:
        expected = ['cls_token'] + expected
    assert sorted(conversion.state_dict) == sorted(expected)
    if source == 'sim':  # in the order of the model's state dict
        assert list(conversion.state_dict) == expected
    cls_token = 'backbone.cls_token' if source == 'sim' else 'cls_token'
    assert (cls_token in conversion.dropped) is not keep_cls_token
    for src, dst in conversion.mapped:
        assert conversion.state_dict[dst] is state[src], (src, dst)


def test_an_unknown_source_is_named():
    with pytest.raises(ValueError, match=r"\('sim', 'release'\), got 'mae'"):
        select_encoder({}, 'mae', keep_cls_token=False)
