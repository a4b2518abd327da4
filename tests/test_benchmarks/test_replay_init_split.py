# Copyright (c) mmsim contributors. All rights reserved.
"""The replay's init split: the common start with one tensor group redrawn
as ViTDet's own init, checked against the backbone's real init and the
default-init bound 1 / sqrt(fan_in)."""
import math

import torch

from benchmarks.replay.init_split import (VARIANTS, swap_to_vitdet_init,
                                          write_variants)
from mmsim.det import SIMViTDet
from mmsim.transfer import load_state_dict, save_checkpoint


def _start(channels: int = 32, patch: int = 16) -> dict:
    gen = torch.Generator().manual_seed(1)
    return {
        'backbone.pos_embed':
        torch.randn(1, 1 + 4 * 4, channels, generator=gen),
        'backbone.patch_embed.projection.weight':
        torch.ones(channels, 3, patch, patch),
        'backbone.patch_embed.projection.bias':
        torch.zeros(channels),
        'backbone.layers.0.attn.qkv.weight':
        torch.randn(3 * channels, channels, generator=gen),
    }


def test_each_variant_redraws_only_its_own_tensors():
    start = _start()
    kept = {k: v.clone() for k, v in start.items()}
    for names in VARIANTS.values():
        out = swap_to_vitdet_init(start, names)
        for key, value in out.items():
            changed = not torch.equal(value, kept[key])
            assert changed == (key[len('backbone.'):] in names), key
            assert value.shape == kept[key].shape
    assert all(torch.equal(start[k], kept[k]) for k in kept)


def test_draws_match_the_backbones_own_init():
    """The redrawn position embedding has std 0.02, the projection lies
    inside Conv2d's default bound 1 / sqrt(3 * P * P) (fan_in 768) and
    fills it; SIMViTDet's own init gives the same statistics."""
    names = [n for group in VARIANTS.values() for n in group]
    out = swap_to_vitdet_init(_start(), names)
    backbone = SIMViTDet(
        arch=dict(
            embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
        img_size=64,
        pretrain_img_size=64,
        window_size=2)
    backbone.init_weights()
    own = {'backbone.' + k: v for k, v in backbone.state_dict().items()}
    bound = 1 / math.sqrt(3 * 16 * 16)
    for state in (out, own):
        pos = state['backbone.pos_embed']
        assert abs(float(pos.std()) - 0.02) < 0.003
        for part in ('weight', 'bias'):
            value = state['backbone.patch_embed.projection.' + part].abs()
            assert bound * 0.9 < float(value.max()) <= bound
    # one seed, one draw
    again = swap_to_vitdet_init(_start(), names)
    assert all(torch.equal(out[k], again[k]) for k in out)


def test_write_variants_saves_loadable_identical_files(tmp_path):
    start_path = str(tmp_path / 'random.pth')
    save_checkpoint(_start(), start_path, meta=dict(source='test'))
    paths = write_variants(start_path, str(tmp_path / 'split'))
    assert set(paths) == set(VARIANTS)
    first = {v: open(p, 'rb').read() for v, p in paths.items()}
    for variant, path in paths.items():
        state = load_state_dict(path)
        expected = swap_to_vitdet_init(_start(), VARIANTS[variant])
        assert all(torch.equal(state[k], expected[k]) for k in expected)
    # written again byte for byte: the replay's reuse keys on the bytes
    paths = write_variants(start_path, str(tmp_path / 'split'))
    assert {v: open(p, 'rb').read() for v, p in paths.items()} == first
