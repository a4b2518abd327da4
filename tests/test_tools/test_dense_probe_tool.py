# Copyright (c) mmsim contributors. All rights reserved.
"""tools/benchmarks/dense_probe.py on a tiny generated set."""
import json
import os.path as osp
import runpy
from types import SimpleNamespace

import pytest
import torch

from mmsim.evaluation import build_pretrain_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
tool = SimpleNamespace(
    **runpy.run_path(osp.join(REPO, 'tools', 'benchmarks', 'dense_probe.py')))

CONFIG = osp.join(REPO, 'configs', 'sim',
                  'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')


def test_checkpoint_and_random_init(shapes_det_root, tmp_path, capsys):
    model = build_pretrain_model(CONFIG, seed=1)
    with torch.no_grad():  # weights unlike the seed-0 init
        model.backbone.layers[0].ffn.layers[1].weight.mul_(3.)
    ckpt = str(tmp_path / 'sim.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    results = {}
    for name in (ckpt, 'random'):
        work_dir = str(tmp_path / ('out_' + osp.basename(name)))
        assert tool.main([
            CONFIG, name, '--data-root', shapes_det_root, '--work-dir',
            work_dir
        ]) == 0
        with open(osp.join(work_dir, 'dense_probe.json')) as f:
            results[name] = json.load(f)
    out = capsys.readouterr().out
    assert 'mIoU' in out and 'fitted on 6' in out
    assert results[ckpt]['grid'] == [8, 8]  # 128 px, patch 16
    assert results[ckpt]['mIoU'] != results['random']['mIoU']
    for result in results.values():
        assert 0. < result['mIoU'] <= 100. and len(result['IoU']) == 9


def test_progress_bars_and_no_progress(shapes_det_root, tmp_path, capsys):
    args = [
        CONFIG, 'random', '--data-root', shapes_det_root, '--work-dir',
        str(tmp_path)
    ]
    assert tool.main(args) == 0
    out = capsys.readouterr().out
    assert 'patch features of 6 images\n' in out and '6/6, ' in out
    assert 'patch features of 3 images\n' in out and '3/3, ' in out
    assert tool.main(args + ['--no-progress']) == 0
    out = capsys.readouterr().out
    assert 'patch features' not in out and 'ETA' not in out
    assert 'mIoU' in out


def test_missing_checkpoint_is_named(shapes_det_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        tool.main([
            CONFIG,
            str(tmp_path / 'nope.pth'), '--data-root', shapes_det_root
        ])
