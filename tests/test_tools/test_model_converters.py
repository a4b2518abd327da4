# Copyright (c) mmsim contributors. All rights reserved.
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from ..test_det._release_checkpoint import fake_release_state
from ..test_det._sim_checkpoint import save_sim_checkpoint, tiny_sim_model_cfg

TOOLS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'model_converters')
RELEASE = dict(depth=2, width=64, proj_depth=2, pred_depth=2, dec_width=32)


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_release(path, **changes):
    state = fake_release_state(**RELEASE)
    for key, value in changes.items():
        if value is None:
            del state[key]
        else:
            state[key] = value
    torch.save(dict(model=state, epoch=1599), path)
    return state


def test_sim_to_vitdet_cli(tmp_path, capsys):
    src, dst = str(tmp_path / 'sim.pth'), str(tmp_path / 'out.pth')
    sim = save_sim_checkpoint(src, embed_dims=64, num_layers=2, num_heads=2)
    assert load_tool('sim_to_vitdet').main([src, dst]) == 0
    out = capsys.readouterr().out
    assert 'backbone.layers.0.attn.qkv.weight -> layers.0.attn.qkv.weight' \
        in out
    assert 'target.* (' in out and 'neck.* (' in out
    saved = torch.load(dst)['state_dict']
    assert torch.equal(saved['layers.1.ffn.layers.1.weight'],
                       sim.backbone.layers[1].ffn.layers[1].weight)


def test_release_to_vitdet_cli(tmp_path, capsys):
    src, dst = str(tmp_path / 'release.pth'), str(tmp_path / 'out.pth')
    state = write_release(src)
    assert load_tool('release_to_vitdet').main([src, dst]) == 0
    assert 'blocks.0.mlp.fc2.weight -> layers.0.ffn.layers.1.weight' in \
        capsys.readouterr().out
    saved = torch.load(dst)
    assert 'CC-BY-NC' in saved['meta']['license']
    assert torch.equal(saved['state_dict']['pos_embed'], state['pos_embed'])


def test_release_to_sim_cli_checks_config(tmp_path, capsys):
    src, dst = str(tmp_path / 'release.pth'), str(tmp_path / 'out.pth')
    write_release(src)
    config = str(tmp_path / 'sim_tiny.py')
    Config(
        dict(
            model=tiny_sim_model_cfg(
                embed_dims=64, num_layers=2, num_heads=2, neck_dims=32))).dump(
                    config)
    tool = load_tool('release_to_sim')
    assert tool.main([src, dst, '--config', config, '--quiet']) == 0
    assert 'mapped' in capsys.readouterr().out
    assert 'target.steps' in torch.load(dst)['state_dict']
    # a config of another width: clear error, nothing written
    Config(
        dict(
            model=tiny_sim_model_cfg(
                embed_dims=64, num_layers=3, num_heads=2, neck_dims=32))).dump(
                    config)
    dst2 = str(tmp_path / 'out2.pth')
    assert tool.main([src, dst2, '--config', config]) == 1
    assert 'missing keys' in capsys.readouterr().err
    assert not osp.exists(dst2)


@pytest.mark.parametrize('tool', ['release_to_vitdet', 'release_to_sim'])
def test_missing_key_gives_error_and_no_file(tmp_path, capsys, tool):
    src, dst = str(tmp_path / 'release.pth'), str(tmp_path / 'out.pth')
    write_release(src, **{'blocks.1.norm1.weight': None})
    assert load_tool(tool).main([src, dst]) == 1
    err = capsys.readouterr().err
    assert 'missing keys (1): blocks.1.norm1.weight' in err
    assert 'nothing was written' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['release.pth']


def test_sim_to_vitdet_rejects_a_release_file(tmp_path, capsys):
    src, dst = str(tmp_path / 'release.pth'), str(tmp_path / 'out.pth')
    write_release(src)
    assert load_tool('sim_to_vitdet').main([src, dst]) == 1
    assert "none of the keys ['state_dict']" in capsys.readouterr().err
    assert not osp.exists(dst)
