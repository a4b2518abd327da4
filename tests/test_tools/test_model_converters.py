# Copyright (c) mmsim contributors. All rights reserved.
import functools
import importlib.util
import json
import os
import os.path as osp
import re
import stat

import pytest
import torch
from mmengine.config import Config

from mmsim.transfer.phases import format_size
from ..test_det._release_checkpoint import fake_release_state
from ..test_det._sim_checkpoint import save_sim_checkpoint, tiny_sim_model_cfg

TOOLS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'model_converters')
RELEASE = dict(depth=2, width=64, proj_depth=2, pred_depth=2, dec_width=32)
#: A phase line's size, e.g. ``(778.6 kB)``, ``(512 B)``.
SIZE = r'\((\d+(?:\.\d)? [kMG]?B)\)'
#: The loading phase line (``src`` escaped), e.g.
#: ``loading a.pth (778.6 kB) ... 0.0 s``.
LOADING = r'loading {src} ' + SIZE + r' \.\.\. \d+\.\d s\n'


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
    ('sim_to_vitdet', lambda path: save_sim_checkpoint(
        path, embed_dims=64, num_layers=2, num_heads=2)),
    ('release_to_vitdet', write_release),
    ('release_to_sim', write_release),
]


@pytest.mark.parametrize('quiet', [[], ['--quiet']])
@pytest.mark.parametrize('tool,write_input', TOOLS_AND_INPUTS)
def test_phase_lines_name_size_and_time(tmp_path, capsys, tool, write_input,
                                        quiet):
    """Loading and writing (the slow parts of a big checkpoint) print one
    line each on stdout, before and after the summary; stderr stays
    empty."""
    src, dst = str(tmp_path / 'in.pth'), str(tmp_path / 'out.pth')
    write_input(src)
    capsys.readouterr()  # a model build's log lines
    assert load_tool(tool).main([src, dst, *quiet]) == 0
    captured = capsys.readouterr()
    assert captured.err == ''
    lines = captured.out.splitlines()
    loading = re.fullmatch(LOADING.format(src=re.escape(src)), lines[0] + '\n')
    assert loading, lines[0]
    assert loading.group(1) == format_size(os.path.getsize(src))
    writing = re.fullmatch(
        rf'writing {re.escape(dst)} {SIZE} \.\.\. \d+\.\d s', lines[-2])
    assert writing, lines[-2]
    value, unit = writing.group(1).split()
    written = float(value) * dict(B=1, kB=1e3, MB=1e6)[unit]
    file_size = os.path.getsize(dst)  # tensors plus the zip and pickle
    assert 0.9 * file_size - 64e3 < written <= file_size
    assert lines[-1] == f'saved {dst}'
    assert sum(line.startswith(('loading ', 'writing '))
               for line in lines) == 2
    if not quiet:  # the summary comes between them
        assert any(' -> ' in line for line in lines[1:-2])


@pytest.mark.parametrize('link', ['same', 'symlink', 'hardlink'])
@pytest.mark.parametrize('tool,write_input', TOOLS_AND_INPUTS)
def test_output_equal_to_input_is_refused(tmp_path, capsys, tool, write_input,
                                          link):
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
    write_release(path)  # a real .pth (no model build: no mmengine logging)
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
    assert err.startswith(f'error: {src}') and err.count(src) == 1, err
    assert err.count('\n') == 1  # one line
    assert ('truncated' if make else 'no such checkpoint file') in err
    assert not osp.exists(dst)


# Bad inputs (issue 13): another model's checkpoint, made-up tensors.


@functools.lru_cache()
def _mae_state():
    """The state dict of a tiny mmselfsup MAE (MAEViT, with its final norm
    ``backbone.ln1``, and MAEPretrainDecoder), built once."""
    from mmengine.registry import DefaultScope
    from mmselfsup.registry import MODELS
    cfg = dict(
        type='MAE',
        backbone=dict(
            type='MAEViT',
            arch=dict(
                embed_dims=64,
                num_layers=2,
                num_heads=2,
                feedforward_channels=256),
            img_size=32,
            patch_size=16),
        neck=dict(
            type='MAEPretrainDecoder',
            num_patches=4,
            patch_size=16,
            embed_dim=64,
            decoder_embed_dim=32,
            decoder_depth=1,
            decoder_num_heads=2),
        head=dict(
            type='MAEPretrainHead',
            patch_size=16,
            loss=dict(type='MAEReconstructionLoss')))
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        return MODELS.build(cfg).state_dict()


def _mae(path):
    """An mmengine checkpoint of the tiny MAE."""
    torch.save(dict(meta=dict(), state_dict=_mae_state()), path)


def _mae_under_model(path):
    """The MAE tensors under ``model``, where the release keeps its own."""
    torch.save(dict(model=_mae_state()), path)


def _made_up(path):
    """A flat dict of random tensors with made-up keys."""
    generator = torch.Generator().manual_seed(0)
    torch.save(
        {
            'encoder.weight': torch.randn(4, 4, generator=generator),
            'classifier.bias': torch.randn(4, generator=generator),
            'step': torch.tensor(3)
        }, path)


NOT_SIM = ': the checkpoint is not an mmsim SIM checkpoint: '
NOT_RELEASE = ": the checkpoint is not the SIM authors' release layout: "
NO_MODEL = (" is not the SIM authors' released checkpoint (tensors under "
            "'model'): it has none of the keys ['model'] and is not a flat "
            'dict of tensors (top-level keys: meta, state_dict)')
MADE_UP = 'unexpected keys (3): classifier.bias, encoder.weight, step'
# (tool, input, what the one-line error says after "error: <path>")
BAD_INPUTS = [
    ('sim_to_vitdet', _mae, NOT_SIM + 'unexpected keys (2): '
     'backbone.ln1.bias, backbone.ln1.weight; nothing was written'),
    ('sim_to_vitdet', _made_up, NOT_SIM + 'missing keys (4): '
     'backbone.layers.<i>.* (no encoder block), '
     'backbone.patch_embed.projection.bias, '
     'backbone.patch_embed.projection.weight, backbone.pos_embed; ' + MADE_UP +
     '; nothing was written'),
    ('release_to_vitdet', _mae, NO_MODEL),
    ('release_to_vitdet', _mae_under_model, NOT_RELEASE + 'missing keys '
     '(4): blocks.<i>.* (no encoder block), patch_embed.proj.bias, '
     'patch_embed.proj.weight, pos_embed; unexpected keys (50): '
     'backbone.cls_token, '),
    ('release_to_vitdet', _made_up, NOT_RELEASE + 'missing keys (4): '
     'blocks.<i>.* (no encoder block), patch_embed.proj.bias, '
     'patch_embed.proj.weight, pos_embed; ' + MADE_UP +
     '; nothing was written'),
    ('release_to_sim', _mae, NO_MODEL),
    ('release_to_sim', _mae_under_model, NOT_RELEASE + 'missing keys (17): '
     'blocks.<i>.* (no encoder block), cls_token, decoder_embed.bias, '
     'decoder_embed.weight, decoder_pos_mlp.bias, ... and 12 more: '),
    ('release_to_sim', _made_up, NOT_RELEASE + 'missing keys (17): '
     'blocks.<i>.* (no encoder block), cls_token, decoder_embed.bias, '
     'decoder_embed.weight, decoder_pos_mlp.bias, ... and 12 more: '
     'decoder_pos_mlp.* (1), decoder_pred.* (2), mask_token (1), '
     'mm_cls_token (1), mm_decoder_embed.* (2), ...; ' + MADE_UP +
     '; nothing was written'),
]


@pytest.mark.parametrize('tool,make,expected', BAD_INPUTS)
def test_foreign_checkpoint_gives_one_line_naming_what_was_expected(
        tmp_path, capsys, tool, make, expected):
    src, dst = str(tmp_path / 'foreign.pth'), str(tmp_path / 'out.pth')
    make(src)
    assert load_tool(tool).main([src, dst]) == 1
    captured = capsys.readouterr()
    # stdout: the loading phase line only (no summary, nothing saved)
    assert re.fullmatch(LOADING.format(src=re.escape(src)), captured.out), \
        captured.out
    err = captured.err
    assert err.startswith(f'error: {src}' + expected), err
    assert err.count('\n') == 1 and len(err) < 800, err  # one short line
    assert sorted(p.name for p in tmp_path.iterdir()) == ['foreign.pth']


def test_a_whole_foreign_model_is_summarised_by_group(tmp_path, capsys):
    """50 MAE keys: five named, the rest counted by top-level prefix."""
    src, dst = str(tmp_path / 'mae.pth'), str(tmp_path / 'out.pth')
    _mae_under_model(src)
    assert load_tool('release_to_vitdet').main([src, dst]) == 1
    err = capsys.readouterr().err
    unexpected = err.split('unexpected keys (50): ')[1]
    named, rest = unexpected.split(', ... and 45 more: ')
    assert len(named.split(', ')) == 5
    state = torch.load(src)['model']
    groups = {
        p: sum(k.startswith(p + '.') for k in sorted(state)[5:])
        for p in ('backbone', 'neck')
    }
    assert rest == (f"backbone.* ({groups['backbone']}), "
                    f"neck.* ({groups['neck']}); nothing was written\n")


@pytest.mark.parametrize('make', [_mae, _made_up, _truncated])
@pytest.mark.parametrize('tool', [t for t, _ in TOOLS_AND_INPUTS])
def test_refused_input_leaves_an_existing_output_untouched(
        tmp_path, capsys, tool, make):
    src, dst = str(tmp_path / 'bad.pth'), str(tmp_path / 'out.pth')
    make(src)
    torch.save(dict(state_dict=dict(pos_embed=torch.ones(1, 5, 8))), dst)
    os.chmod(dst, 0o640)
    before, mtime = open(dst, 'rb').read(), os.stat(dst).st_mtime_ns
    assert load_tool(tool).main([src, dst]) == 1
    assert capsys.readouterr().err.splitlines()[-1].startswith(f'error: {src}')
    assert open(dst, 'rb').read() == before
    assert os.stat(dst).st_mtime_ns == mtime
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o640
    # no temporary file left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bad.pth', 'out.pth']


# The converters are pre-training tools too: they must run without mmdet
# (and without mmseg, unless sim_to_mmseg's --config check is asked for).
BLOCKED_TOOLBOX_RUNNER = '''
import json, runpy, sys
sys.modules['mmdet'] = None  # `import mmdet` (and mmdet.*) raises ImportError
sys.modules['mmseg'] = None
codes = []
for argv in json.loads(sys.argv[1]):
    sys.argv = argv
    try:
        runpy.run_path(argv[0], run_name='__main__')
    except SystemExit as exit:
        codes.append(exit.code)
print('exit codes', json.dumps(codes))
'''


def test_the_converters_run_with_mmdet_blocked(tmp_path):
    """Every converter CLI (``release_to_sim`` with its ``--config`` check,
    which builds the SIM model) in a process where ``import mmdet`` and
    ``import mmseg`` fail; their outputs equal the in-process
    conversions."""
    import subprocess
    import sys

    from mmsim.transfer import (convert_release_to_mmseg,
                                convert_release_to_sim,
                                convert_release_to_vitdet,
                                convert_sim_to_mmseg, convert_sim_to_vitdet,
                                load_state_dict)
    sim, release = str(tmp_path / 'sim.pth'), str(tmp_path / 'release.pth')
    save_sim_checkpoint(sim, embed_dims=64, num_layers=2, num_heads=2)
    write_release(release)
    config = str(tmp_path / 'sim_tiny.py')
    Config(
        dict(
            model=tiny_sim_model_cfg(
                embed_dims=64, num_layers=2, num_heads=2, neck_dims=32))).dump(
                    config)
    # output -> (tool, its arguments, in-process converter, tensors' key,
    # converter recorded in meta)
    runs = {
        'sim_to_vitdet': ('sim_to_vitdet', [sim], convert_sim_to_vitdet,
                          'state_dict', 'sim_to_vitdet'),
        'release_to_vitdet':
        ('release_to_vitdet', [release], convert_release_to_vitdet, 'model',
         'release_to_vitdet'),
        'sim_to_vitdet_release':
        ('sim_to_vitdet', ['--release', release], convert_release_to_vitdet,
         'model', 'release_to_vitdet'),
        'release_to_sim': ('release_to_sim', [release, '--config', config],
                           convert_release_to_sim, 'model', 'release_to_sim'),
        'sim_to_mmseg': ('sim_to_mmseg', [sim], convert_sim_to_mmseg,
                         'state_dict', 'sim_to_mmseg'),
        'sim_to_mmseg_release':
        ('sim_to_mmseg', ['--release', release], convert_release_to_mmseg,
         'model', 'release_to_mmseg'),
    }
    commands = [[
        osp.join(TOOLS, f'{tool}.py'), *args,
        str(tmp_path / f'{out}.pth'), '--quiet'
    ] for out, (tool, args, *_) in runs.items()]
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    result = subprocess.run(
        [sys.executable, '-c', BLOCKED_TOOLBOX_RUNNER,
         json.dumps(commands)],
        cwd=str(tmp_path),
        env=dict(env, OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'exit codes {[0] * len(runs)}' in result.stdout, \
        result.stderr[-3000:]
    for out, (_, args, convert, key, converter) in runs.items():
        saved = torch.load(str(tmp_path / f'{out}.pth'))
        src = release if key == 'model' else sim
        expected = convert(load_state_dict(src, keys=(key, ))).state_dict
        assert list(saved['state_dict']) == list(expected), out
        for name, tensor in expected.items():
            assert torch.equal(saved['state_dict'][name], tensor), name
        assert saved['meta']['converter'] == converter


def test_release_to_vitdet_is_sim_to_vitdet_release(tmp_path, capsys):
    """The former name writes what ``sim_to_vitdet.py --release`` writes:
    the same keys in the same order, equal tensors, the same meta."""
    src = str(tmp_path / 'release.pth')
    write_release(src)
    old, new = tmp_path / 'old', tmp_path / 'new'
    assert load_tool('release_to_vitdet').main([src,
                                                str(old / 'out.pth')]) == 0
    assert load_tool('sim_to_vitdet').main(
        ['--release', src, str(new / 'out.pth')]) == 0
    summary = [
        line for line in capsys.readouterr().out.splitlines()
        if ' -> ' in line or line.startswith('mapped ')
    ]
    half = len(summary) // 2
    assert half > 0 and summary[:half] == summary[half:]
    saved = [torch.load(str(folder / 'out.pth')) for folder in (old, new)]
    assert saved[0]['meta'] == saved[1]['meta']
    assert saved[0]['meta']['converter'] == 'release_to_vitdet'
    assert list(saved[0]['state_dict']) == list(saved[1]['state_dict'])
    for key, tensor in saved[0]['state_dict'].items():
        assert torch.equal(saved[1]['state_dict'][key], tensor), key


# Checkpoints from strangers (issue 28): a pickle that runs code.


class _CreatesAFile:
    """Unpickling this calls ``open(path, 'w')``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def _sim_input(path):
    save_sim_checkpoint(path, embed_dims=64, num_layers=2, num_heads=2)


HOSTILE_CASES = [('sim_to_vitdet', _sim_input), ('sim_to_mmseg', _sim_input),
                 ('release_to_vitdet', write_release),
                 ('release_to_sim', write_release)]


@pytest.mark.parametrize('with_weights', [True, False])
@pytest.mark.parametrize('tool,write_input', HOSTILE_CASES)
def test_a_checkpoints_code_never_runs(tmp_path, capsys, recwarn, tool,
                                       write_input, with_weights):
    """A .pth whose pickle creates a file: torch.load (torch < 2.6) runs it;
    each of the four converters reads the file without running it. With
    real weights beside the payload the conversion goes on and a warning
    names the callable; a payload alone is refused as not a checkpoint."""
    src, dst = str(tmp_path / 'in.pth'), str(tmp_path / 'out.pth')
    mark = str(tmp_path / 'created_by_the_checkpoint')
    checkpoint = {}
    if with_weights:
        write_input(src)
        checkpoint = torch.load(src)
    checkpoint['payload'] = _CreatesAFile(mark)
    torch.save(checkpoint, src)
    torch.load(src, weights_only=False)  # the payload is live
    assert osp.exists(mark)
    os.remove(mark)
    capsys.readouterr()
    status = load_tool(tool).main([src, dst, '--quiet'])
    assert not osp.exists(mark)
    err = capsys.readouterr().err
    if with_weights:
        assert status == 0 and osp.exists(dst)
        messages = [str(w.message) for w in recwarn]
        assert any(f'{src} asks to build io.open: not built' in m
                   for m in messages), messages
    else:
        assert status == 1 and not osp.exists(dst)
        assert err.startswith(f'error: {src}')
