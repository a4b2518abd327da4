# Copyright (c) mmsim contributors. All rights reserved.
"""The replay: one common start for every row, its frozen columns, the
learning-rate rule of its fine-tunes, its tables, and ``--quick`` end to
end (pre-training through ``mim train mmselfsup``, mmdet and mmseg
fine-tunes through their runners and metrics)."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from benchmarks.replay import finetune, frozen, report, rows
from mmsim.evaluation import (dense_probe_miou, extract_patch_features,
                              load_dense_probe_set, retrieval_miou)
from .conftest import REPO


@pytest.fixture(scope='module')
def common_init(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('replay') / 'common_init.pth')
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        return rows.save_common_init(path)


@pytest.mark.parametrize('name', list(rows.METHODS))
def test_every_row_starts_from_the_common_init(name, common_init, tmp_path):
    """Each method's model, built from its start config under another seed
    and initialised as the runner does, holds the common start in every
    encoder weight (SIM's target too); MAE keeps its own xavier init for
    the rest."""
    from mmselfsup.registry import MODELS
    config = rows.write_start_config(name, common_init,
                                     str(tmp_path / 'start.py'))
    cfg = Config.fromfile(config)
    torch.manual_seed(123)
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        model = MODELS.build(cfg.model)
        model.init_weights()
    compared, diffs = rows.compare_to_common_init(model, common_init)
    assert compared == 76 and diffs == {}
    state = torch.load(common_init)['state_dict']
    if cfg.model.type == 'SIM':
        target = model.target.module.backbone.state_dict()
        for key, value in state.items():
            torch.testing.assert_close(target[key[len('backbone.'):]], value)
    if name == 'MAE':
        assert [c['type'] for c in cfg.model.init_cfg
                ] == ['Xavier', 'Constant', 'Pretrained']
    # the start is not what the method's own init would give
    torch.manual_seed(123)
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        own = MODELS.build(Config.fromfile(rows.config_path(name)).model)
        own.init_weights()
    assert rows.compare_to_common_init(own, common_init)[1]


def test_dense_columns(shapes_det_root, common_init):
    """The probe column is the dense probe of the encoder; the retrieval
    columns are :func:`retrieval_miou` of its patch tokens, raw and
    standardised."""
    config = rows.config_path(rows.RANDOM)
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        model, _ = rows.build_model(config, common_init, backbone_only=True)
    result = frozen.dense_metrics(model, frozen.dense_splits(shapes_det_root))
    splits = [
        load_dense_probe_set(
            osp.join(shapes_det_root, s),
            osp.join(shapes_det_root, 'labels', s)) for s in ('train', 'val')
    ]
    assert result['dense'] == pytest.approx(
        dense_probe_miou(model, *splits, num_classes=9)['mIoU'])
    feats = [extract_patch_features(model, s.images) for s in splits]
    assert result['grid'] == (8, 8)
    for key, std in (('retrieval', False), ('retrieval_std', True)):
        expected = retrieval_miou(
            feats[0],
            splits[0].label_maps,
            feats[1],
            splits[1].label_maps,
            9,
            k=30,
            temperature=0.02,
            standardise_features=std,
            ignore_index=255)['mIoU']
        assert result[key] == pytest.approx(expected)
    bounds = frozen.retrieval_bounds(splits, (8, 8))
    assert bounds['oracle'] > bounds['pixels']['retrieval']


def test_split_heldout(shapes_det_root, tmp_path):
    out = finetune.split_heldout(shapes_det_root, str(tmp_path / 'sel'), 2)
    with open(
            osp.join(shapes_det_root, 'annotations',
                     'instances_train.json')) as f:
        full = json.load(f)
    ids = sorted(im['id'] for im in full['images'])
    parts = {}
    for split in ('train', 'val'):
        with open(osp.join(out, 'annotations',
                           f'instances_{split}.json')) as f:
            parts[split] = json.load(f)
        names = sorted(im['file_name'] for im in parts[split]['images'])
        assert sorted(os.listdir(osp.join(out, split))) == names
        assert len(os.listdir(osp.join(out, 'labels', split))) == len(names)
        kept = {im['id'] for im in parts[split]['images']}
        assert {a['image_id'] for a in parts[split]['annotations']} <= kept
        assert parts[split]['categories'] == full['categories']
    assert [im['id'] for im in parts['val']['images']] == ids[-2:]
    assert len(parts['train']['annotations']) + len(
        parts['val']['annotations']) == len(full['annotations'])
    with pytest.raises(ValueError, match='num_heldout'):
        finetune.split_heldout(shapes_det_root, str(tmp_path / 'bad'), 6)


def test_lr_rule_chooses_on_heldout_then_runs_every_seed(
        monkeypatch, tmp_path):
    """The rule's bookkeeping, with the fine-tune itself replaced by a
    score that depends on the rate, the data and the seed (and, like
    :func:`run_finetune`, written to the run's metrics file): the rate is
    chosen on the held-out root (the smaller one on a tie), the val runs
    use it on the val root with every seed; a second call reuses every
    finished run, and a changed encoder runs its row again."""
    calls = []

    def fake_finetunes(task, config, runs, **kwargs):
        calls.append(runs)
        # two at once: one thread each, whatever num_threads says
        assert kwargs['workers'] == 2 and kwargs['num_threads'] == 1
        out = {}
        for name, run in runs.items():
            lr = run['cfg_options']['optim_wrapper.optimizer.lr']
            held = run['data_root'] == 'held'
            row = name.split('|')[0]
            peak = {'A': 2e-4, 'B': 1e-3, 'C': None}[row]
            score = 0.3 if peak is None else 0.5 - abs(lr - peak) * 100
            out[name] = {'mIoU': score if held else 0.1 + run['seed'] / 10}
            with open(run['metrics_file'], 'w') as f:
                json.dump(out[name], f)
        return out

    monkeypatch.setattr(finetune, 'run_finetunes', fake_finetunes)
    monkeypatch.setattr(finetune, 'base_lr', lambda task: 5e-4)
    encoders = {}
    for name in 'ABC':
        encoders[name] = tmp_path / f'{name}.pth'
        encoders[name].write_bytes(name.encode())

    def rule():
        return finetune.lr_rule(
            'seg',
            {n: dict(slug=n.lower(), encoder=str(encoders[n]))
             for n in 'ABC'},
            'val_root',
            'held',
            str(tmp_path / 'wd'),
            iters=3,
            lr_factors=(0.5, 1., 2.),
            seeds=(0, 1),
            num_threads=2,
            max_extensions=0)

    result = rule()
    assert result['A']['lr'] == 2.5e-4 and result['B']['lr'] == 1e-3
    assert result['C']['lr'] == 2.5e-4  # a tie: the smaller rate
    assert set(result['A']['grid']) == {2.5e-4, 5e-4, 1e-3}
    assert [s['mIoU']
            for s in result['B']['seeds']] == pytest.approx([0.1, 0.2])
    held, val = calls
    assert len(held) == 9 and {r['data_root']
                               for r in held.values()} == {'held'}
    assert {r['seed'] for r in held.values()} == {0}
    assert len(val) == 6 and {r['data_root']
                              for r in val.values()} == {'val_root'}
    assert val['B|2x|1']['cfg_options'] == {'optim_wrapper.optimizer.lr': 1e-3}
    assert all(r['max_iters'] == 3 for r in [*held.values(), *val.values()])
    assert {r['reused'] for r in result.values()} == {0}
    # again: nothing runs, the same result
    again = rule()
    assert calls[2:] == [{}, {}]
    assert {n: r['reused'] for n, r in again.items()} == dict(A=5, B=5, C=5)
    for name in 'ABC':
        del again[name]['reused'], result[name]['reused']
    assert again == result
    # B's encoder changed: only B's runs go again
    encoders['B'].write_bytes(b'B, trained again')
    rule()
    assert {k.split('|')[0] for k in {**calls[4], **calls[5]}} == {'B'}
    assert len(calls[4]) == 3 and len(calls[5]) == 2


def test_lr_rule_extends_a_grid_past_an_edge(monkeypatch, tmp_path):
    """A row whose best held-out rate is the grid's edge, strictly better
    than its neighbour, tries twice (half) that rate on held-out images,
    until the best is inside or the extensions run out; ties do not
    extend; the val runs use the final choice."""
    calls = []

    def fake_finetunes(task, config, runs, **kwargs):
        calls.append(sorted(runs))
        out = {}
        for name, run in runs.items():
            lr = run['cfg_options']['optim_wrapper.optimizer.lr']
            row = name.split('|')[0]
            peak = {'up': 4e-3, 'far': 1., 'down': 2e-4, 'flat': None}[row]
            score = 30. if peak is None else 50. - abs(lr - peak) * 1e3
            out[name] = {'mIoU': score}
            with open(run['metrics_file'], 'w') as f:
                json.dump(out[name], f)
        return out

    monkeypatch.setattr(finetune, 'run_finetunes', fake_finetunes)
    monkeypatch.setattr(finetune, 'base_lr', lambda task: 1e-3)
    rows_ = {
        n: dict(slug=n, encoder=None)
        for n in ('up', 'far', 'down', 'flat')
    }
    result = finetune.lr_rule(
        'seg',
        rows_,
        'val_root',
        'held',
        str(tmp_path / 'wd'),
        iters=3,
        lr_factors=(0.5, 1., 2.),
        seeds=(0, ),
        max_extensions=2)
    # up: 2x at the edge -> 4x is the peak, 8x is worse: stop at 4x
    assert result['up']['lr'] == pytest.approx(4e-3)
    assert sorted(result['up']['grid']) == pytest.approx(
        [5e-4, 1e-3, 2e-3, 4e-3, 8e-3])
    # far: still at the edge after 2 extensions: the largest tried
    assert result['far']['lr'] == pytest.approx(8e-3)
    assert len(result['far']['grid']) == 5
    # down: 0.5x at the edge -> 0.25x (2.5e-4) is closer to the peak
    # than 0.5x, 0.125x is not
    assert result['down']['lr'] == pytest.approx(2.5e-4)
    # flat: a tie at every rate: the smallest, no extension
    assert result['flat']['lr'] == pytest.approx(5e-4)
    assert len(result['flat']['grid']) == 3
    held_rounds, val = calls[:-1], calls[-1]
    assert len(held_rounds[0]) == 12
    assert held_rounds[1] == ['down|0.25x|0', 'far|4x|0', 'up|4x|0']
    assert held_rounds[2] == ['down|0.125x|0', 'far|8x|0', 'up|8x|0']
    assert val == ['down|0.25x|0', 'far|8x|0', 'flat|0.5x|0', 'up|4x|0']


def test_tables():
    results = {
        'SIM':
        dict(
            linear=1.,
            knn=2.,
            dense=3.,
            retrieval=4.,
            retrieval_std=5.,
            det=dict(
                lr=1e-3,
                grid={
                    5e-4: dict(box=7., mask=6.),
                    1e-3: dict(box=8., mask=6.5)
                },
                seeds=[dict(box=10., mask=9.),
                       dict(box=12., mask=9.)]),
            seg=dict(
                lr=2e-3,
                grid={2e-3: dict(mIoU=50.)},
                seeds=[dict(mIoU=50.), dict(mIoU=52.)])),
        'own init':
        dict(
            det=dict(
                lr=5e-4,
                grid={5e-4: dict(box=1., mask=1.)},
                seeds=[dict(box=2., mask=1.)])),
    }
    bounds = dict(pixels=dict(retrieval=15., retrieval_std=30.), oracle=72.)
    lines = report.markdown_table(results, bounds).splitlines()
    assert 'dense retrieval mIoU' in lines[0] and 'seg mIoU' in lines[0]
    assert lines[2] == ('| SIM | 1.0 | 2.0 | 3.0 | 4.0 | 5.0 | '
                        '11.0 [10.0 / 12.0] | 9.0 [9.0 / 9.0] | '
                        '51.0 [50.0 / 52.0] |')
    assert lines[3] == '| own init | - | - | - | - | - | 2.0 | 1.0 | - |'
    assert lines[4].startswith('| raw pixels (retrieval floor) | - | - | - '
                               '| 15.0 | 30.0 |')
    grid = report.grid_table('det', 'box', results).splitlines()
    assert grid[0] == '| method | lr 0.0005 | lr 0.001 |'
    assert grid[2] == '| SIM | 7.0 | **8.0** |'
    assert grid[3] == '| own init | **1.0** | - |'


def test_quick_runs_end_to_end(tmp_path):
    """``--quick`` with one method: data, common start, pre-training
    through ``mim train mmselfsup``, the frozen columns, both fine-tune
    rules through mmdet's and mmseg's runners, the report."""
    out, work = tmp_path / 'out', tmp_path / 'work'
    cmd = [
        sys.executable, '-m', 'benchmarks.replay.run', '--quick', '--methods',
        'SIM (global only)', '--seeds', '0', '--out',
        str(out), '--work-dir',
        str(work)
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    done = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=1200, env=env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    with open(out / 'results.json') as f:
        saved = json.load(f)
    results = saved['results']
    assert list(results) == ['SIM (global only)', rows.RANDOM]
    for name in ('SIM (global only)', rows.RANDOM):
        for key in ('linear', 'knn', 'dense', 'retrieval', 'retrieval_std'):
            assert 0 <= results[name][key] <= 100, (name, key)
    for name, r in results.items():
        for task, metric in (('det', 'box'), ('seg', 'mIoU')):
            assert len(r[task]['grid']) == 2, (name, task)
            assert len(r[task]['seeds']) == 1
            assert math.isfinite(r[task]['seeds'][0][metric])
    assert 0 < saved['bounds']['oracle'] <= 100
    # the pre-training ran from the common start, through its own config
    assert (work / 'sim-global_start.py').is_file()
    assert list((work / 'sim-global').glob('epoch_1.pth'))
    text = (out / 'results.md').read_text()
    assert 'Learning-rate grid, det' in text and 'Learning-rate grid, seg' \
        in text
    assert (out / 'knn_vs_epoch.png').is_file()
    # the same command with --resume reuses the pre-training and every
    # fine-tune, and gives the same table
    again = subprocess.run(
        cmd + ['--resume'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=env)
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    with open(out / 'results.json') as f:
        resumed = json.load(f)['results']
    for name, r in resumed.items():
        for task in ('det', 'seg'):
            assert r[task]['reused'] == 3
            assert r[task]['seeds'] == results[name][task]['seeds']
    text = (out / 'results.md').read_text()
    assert 'Pre-trainings reused from an earlier run of this command: ' \
        'SIM (global only).' in text
    assert 'Fine-tunes reused from an earlier run: 12.' in text


@pytest.mark.parametrize('name', ['replay', 'training_cost'])
def test_the_benchmarks_run_as_modules(name):
    """``python -m benchmarks.<name>.run`` from the repository root; the
    file path, which cannot import the benchmarks package without a path
    edit, names that command."""
    module = subprocess.run(
        [sys.executable, '-m', f'benchmarks.{name}.run', '--help'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300)
    assert module.returncode == 0, module.stderr[-2000:]
    assert 'usage:' in module.stdout
    as_file = subprocess.run(
        [sys.executable,
         osp.join('benchmarks', name, 'run.py'), '--help'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300)
    assert as_file.returncode == 1
    assert f'`python -m benchmarks.{name}.run ...`' in as_file.stderr
