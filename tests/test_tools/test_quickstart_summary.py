# Copyright (c) mmsim contributors. All rights reserved.
"""tools/quickstart_summary.py: the quick start's closing table."""
import json
import os
import os.path as osp
import runpy
from types import SimpleNamespace

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
summary = SimpleNamespace(
    **runpy.run_path(osp.join(REPO, 'tools', 'quickstart_summary.py')))


def _work_dir(tmp_path, records):
    run = tmp_path / 'pre' / '20261202_000000' / 'vis_data'
    os.makedirs(run)
    with open(run / 'scalars.json', 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in records)
    return str(tmp_path / 'pre')


def test_table_reads_first_and_last_monitor_values_and_ap(tmp_path, capsys):
    work_dir = _work_dir(tmp_path, [{
        'knn/top1': 31.5,
        'step': 0
    }, {
        'dense/mIoU': 22.4,
        'step': 0
    }, {
        'loss': 1.9,
        'step': 1
    }, {
        'knn/top1': 40.0,
        'step': 2
    }, {
        'knn/top1': 51.5,
        'dense/mIoU': 24.0,
        'step': 10
    }])
    metrics = tmp_path / 'metrics.json'
    metrics.write_text(
        json.dumps({
            'SIM': {
                'coco/bbox_mAP': 0.125,
                'coco/bbox_mAP_50': 0.271,
                'coco/segm_mAP': 0.132,
                'coco/segm_mAP_50': 0.267
            },
            'init': {
                'coco/bbox_mAP': 0.107
            },
            'random': {
                'coco/bbox_mAP': 0.169,
                'coco/bbox_mAP_50': 0.325,
                'coco/segm_mAP': 0.185,
                'coco/segm_mAP_50': 0.30
            }
        }))
    assert summary.main([
        '--pretrain-work-dir', work_dir, '--det-metrics',
        str(metrics), '--times', 'pretrain=300', 'detection=270'
    ]) == 0
    out = capsys.readouterr().out
    assert '| kNN top-1 (%) | 31.5 | 51.5 | - |' in out
    assert '| dense-probe mIoU (%) | 22.4 | 24.0 | - |' in out
    assert '| box AP | 10.7 | 12.5 | 16.9 |' in out
    assert '| mask AP50 | - | 26.7 | 30.0 |' in out
    assert 'pretrain 5.0 min, detection 4.5 min; 9.5 min in all' in out


def test_missing_run_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        summary.main(['--pretrain-work-dir', str(tmp_path / 'nowhere')])
