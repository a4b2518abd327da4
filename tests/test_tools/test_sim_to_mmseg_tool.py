# Copyright (c) mmsim contributors. All rights reserved.
"""tools/model_converters/sim_to_mmseg.py: SIM and release checkpoints,
the ``--config`` check, one-line errors and nothing written on refusal."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from ..test_det._release_checkpoint import fake_release_state
from ..test_seg._mmseg_checkpoint import (RELEASE, load_tool, mae_cfg,
                                          save_sim, trained_tiny_sim)


@pytest.fixture(scope='module')
def tiny_sim():
    return trained_tiny_sim()


def seg_config(path, arch, img_size=128):
    """An mmseg config file of just a tiny MAE backbone."""
    backbone = mae_cfg(
        arch,
        img_size, [arch['num_layers'] - 1],
        dict(type='Pretrained', checkpoint='x.pth'),
        mlp_ratio=4)
    Config(dict(model=dict(backbone=backbone))).dump(path)
    return path


def test_cli_sim_with_config_check(tiny_sim, tmp_path, capsys):
    sim, cfg = tiny_sim
    src, dst = str(tmp_path / 'sim.pth'), str(tmp_path / 'out.pth')
    save_sim(sim, src)
    config = seg_config(str(tmp_path / 'seg.py'), cfg.model.backbone.arch)
    assert load_tool().main([src, dst, '--config', config]) == 0
    out = capsys.readouterr().out
    assert 'backbone.cls_token -> cls_token' in out
    assert 'target.* (' in out and 'neck.* (' in out
    saved = torch.load(dst)
    assert saved['meta']['converter'] == 'sim_to_mmseg'
    assert torch.equal(saved['state_dict']['layers.5.ffn.layers.1.weight'],
                       sim.backbone.layers[5].ffn.layers[1].weight)

    # a backbone of another depth or width: one line, nothing written
    for arch, expected in [
        (dict(cfg.model.backbone.arch, num_layers=7), 'missing keys (12): '),
        (dict(cfg.model.backbone.arch, embed_dims=96), 'other shapes ('),
    ]:
        config = seg_config(str(tmp_path / 'other.py'), arch)
        dst2 = str(tmp_path / 'out2.pth')
        assert load_tool().main([src, dst2, '--config', config]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f'error: {src}: the converted tensors do not '
                              f'fit the backbone of {config}: {expected}')
        assert err.count('\n') == 1 and 'nothing was written' in err
        assert not osp.exists(dst2)


def test_cli_release(tmp_path, capsys):
    src, dst = str(tmp_path / 'release.pth'), str(tmp_path / 'out.pth')
    release = fake_release_state(**RELEASE)
    torch.save(dict(model=release, epoch=1599), src)
    assert load_tool().main(['--release', src, dst, '--quiet']) == 0
    assert 'mapped' in capsys.readouterr().out
    saved = torch.load(dst)
    assert 'CC-BY-NC' in saved['meta']['license']
    assert torch.equal(saved['state_dict']['cls_token'], release['cls_token'])


def _sim_file(path, tiny_sim):
    save_sim(tiny_sim[0], path)


def _release_file(path, tiny_sim):
    torch.save(dict(model=fake_release_state(**RELEASE)), path)


def _truncated(path, tiny_sim):
    _release_file(path, tiny_sim)
    data = open(path, 'rb').read()
    with open(path, 'wb') as handle:
        handle.write(data[:len(data) // 2])


@pytest.mark.parametrize(
    'make,args,expected', [
        (_release_file, [], "none of the keys ['state_dict']"),
        (_sim_file, ['--release'], "none of the keys ['model']"),
        (_truncated, [], 'truncated'),
        (_truncated, ['--release'], 'truncated'),
    ],
    ids=['release-as-sim', 'sim-as-release', 'truncated', 'truncated-rel'])
def test_cli_wrong_checkpoint_gives_one_line_and_no_file(
        tiny_sim, tmp_path, capsys, make, args, expected):
    src, dst = str(tmp_path / 'in.pth'), str(tmp_path / 'out.pth')
    make(src, tiny_sim)
    assert load_tool().main([*args, src, dst]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f'error: {src}') and expected in err, err
    assert err.count('\n') == 1
    assert sorted(os.listdir(tmp_path)) == ['in.pth']


def test_cli_refused_input_leaves_an_existing_output(tiny_sim, tmp_path,
                                                     capsys):
    src, dst = str(tmp_path / 'in.pth'), str(tmp_path / 'out.pth')
    state = dict(tiny_sim[0].state_dict())
    del state['backbone.layers.0.ln1.weight']
    torch.save(dict(state_dict=state), src)
    torch.save(dict(state_dict=dict(pos_embed=torch.ones(1, 5, 8))), dst)
    before = open(dst, 'rb').read()
    assert load_tool().main([src, dst]) == 1
    assert 'missing keys (1): backbone.layers.0.ln1.weight' in \
        capsys.readouterr().err
    assert open(dst, 'rb').read() == before
    assert sorted(os.listdir(tmp_path)) == ['in.pth', 'out.pth']
