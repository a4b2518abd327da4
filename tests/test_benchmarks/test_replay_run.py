# Copyright (c) mmsim contributors. All rights reserved.
"""The replay driver's evaluation steps on tiny generated data."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.registry import DefaultScope

from benchmarks.replay import run as replay
from mmsim.evaluation import dense_probe_miou, load_dense_probe_set
from .conftest import REPO


def test_dense_column_is_the_dense_probe_of_the_encoder(shapes_det_root):
    config = osp.join(replay.CONFIG_DIR, replay.METHODS['MAE'])
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        result = replay.dense_metrics(config, None, shapes_det_root)
        model, _ = replay._build_model(config, None)  # seeded: same init
    splits = [
        load_dense_probe_set(
            osp.join(shapes_det_root, s),
            osp.join(shapes_det_root, 'labels', s)) for s in ('train', 'val')
    ]
    expected = dense_probe_miou(model, *splits, num_classes=9)['mIoU']
    assert result['dense'] == pytest.approx(expected)
    assert torch.isfinite(torch.tensor(result['dense']))


def test_table_has_every_column():
    row = dict(linear=1., knn=2., dense=3., box=4., mask=5.)
    lines = replay.markdown_table({'MAE': row}).splitlines()
    assert 'dense-probe mIoU' in lines[0]
    assert lines[2] == '| MAE | 1.0 | 2.0 | 3.0 | 4.0 | 5.0 |'


def test_detections_run_in_two_processes(shapes_det_root, tmp_path):
    """The detection column's jobs, two spawned processes at once: a
    converted encoder and the detector's own random init of its arch,
    each through mmdet's runner and CocoMetric (2 iterations)."""
    config = osp.join(replay.CONFIG_DIR,
                      replay.METHODS['SIM (release: dense)'])
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        encoder = replay.encoder_checkpoint(config, None,
                                            str(tmp_path / 'encoder.pth'))
    jobs = {
        'SIM':
        dict(
            encoder=encoder,
            det_root=shapes_det_root,
            work_dir=str(tmp_path / 'sim'),
            iters=2),
        'random':
        dict(
            encoder=None,
            arch_from=encoder,
            det_root=shapes_det_root,
            work_dir=str(tmp_path / 'random'),
            iters=2),
    }
    results = replay.run_detections(jobs, workers=2, num_threads=1)
    assert set(results) == {'SIM', 'random'}
    for metrics in results.values():
        assert set(metrics) == {'box', 'mask'}
        assert all(0 <= v <= 100 for v in metrics.values())
    # the SIM job loaded the converted encoder, the random one did not
    assert osp.isfile(tmp_path / 'sim' / 'sim_vitdet_backbone.pth')
    assert not osp.exists(tmp_path / 'random' / 'sim_vitdet_backbone.pth')


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
