# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.evaluation.model_loading: the encoder at its initialisation,
saved and loaded back."""
import os.path as osp

import torch

from mmsim.evaluation import build_pretrain_model, save_initial_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'sim',
                  'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')


def test_initial_checkpoint_round_trip(tmp_path):
    """The saved state is the seed's init, differs from another seed's,
    carries the config and seed, and builds the same model back; the
    write leaves no temporary file."""
    path = str(tmp_path / 'init.pth')
    assert save_initial_checkpoint(CONFIG, path, seed=3) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == ['init.pth']
    saved = torch.load(path, map_location='cpu')
    assert saved['meta']['seed'] == 3
    assert 'SIM' in saved['meta']['cfg']
    fresh = build_pretrain_model(CONFIG, seed=3).state_dict()
    other = build_pretrain_model(CONFIG, seed=4).state_dict()
    loaded = build_pretrain_model(CONFIG, path, seed=4).state_dict()
    key = 'backbone.layers.0.attn.qkv.weight'
    assert not torch.equal(fresh[key], other[key])
    assert set(saved['state_dict']) == set(fresh)
    for name, value in fresh.items():
        assert torch.equal(saved['state_dict'][name], value), name
        assert torch.equal(loaded[name], value), name
