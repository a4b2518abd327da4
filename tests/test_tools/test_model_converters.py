# Copyright (c) mmsim contributors. All rights reserved.
import importlib.util
import os
import os.path as osp
import stat

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


TOOLS_AND_INPUTS = [
    ('sim_to_vitdet',
     lambda path: save_sim_checkpoint(
         path, embed_dims=64, num_layers=2, num_heads=2)),
    ('release_to_vitdet', write_release),
    ('release_to_sim', write_release),
]


@pytest.mark.parametrize('link', ['same', 'symlink', 'hardlink'])
@pytest.mark.parametrize('tool,write_input', TOOLS_AND_INPUTS)
def test_output_equal_to_input_is_refused(tmp_path, capsys, tool,
                                          write_input, link):
    """``tool ckpt.pth ckpt.pth`` once replaced the training checkpoint with
    the converted subset; now it is refused and the input keeps its bytes."""
    src = str(tmp_path / 'ckpt.pth')
    write_input(src)
    before = open(src, 'rb').read()
    dst = src
    if link == 'symlink':
        dst = str(tmp_path / 'alias.pth')
        os.symlink(src, dst)
    elif link == 'hardlink':
        dst = str(tmp_path / 'alias.pth')
        os.link(src, dst)
    assert load_tool(tool).main([src, dst]) == 1
    err = capsys.readouterr().err
    assert f'the output {dst} is the input {src}' in err
    assert open(src, 'rb').read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {'ckpt.pth', osp.basename(dst)})


@pytest.mark.parametrize('umask', [0o022, 0o002])
@pytest.mark.parametrize('tool,write_input', TOOLS_AND_INPUTS)
def test_output_has_the_umask_mode(tmp_path, tool, write_input, umask):
    src, dst = str(tmp_path / 'in.pth'), str(tmp_path / 'out.pth')
    write_input(src)
    old = os.umask(umask)
    try:
        assert load_tool(tool).main([src, dst, '--quiet']) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o666 & ~umask


def _truncated(path):
    save_sim_checkpoint(path, embed_dims=64, num_layers=2, num_heads=2)
    data = open(path, 'rb').read()
    with open(path, 'wb') as handle:
        handle.write(data[:len(data) // 2])


def _text(path):
    with open(path, 'w') as handle:
        handle.write('not a checkpoint\n')


def _empty(path):
    open(path, 'wb').close()


@pytest.mark.parametrize('make', [_truncated, _text, _empty, None])
@pytest.mark.parametrize('tool', [t for t, _ in TOOLS_AND_INPUTS])
def test_unreadable_checkpoint_is_named(tmp_path, capsys, tool, make):
    """A cut or foreign .pth gave a raw PytorchStreamReader/pickle
    traceback without the path; now one line naming it, exit 1, no output."""
    src, dst = str(tmp_path / 'cut.pth'), str(tmp_path / 'out.pth')
    if make is not None:
        make(src)
    assert load_tool(tool).main([src, dst]) == 1
    err = capsys.readouterr().err
    assert f'error: {src}:' in err
    assert ('truncated' if make else 'no such checkpoint file') in err
    assert not osp.exists(dst)
