# Copyright (c) mmsim contributors. All rights reserved.
"""The replay driver's evaluation steps on tiny generated data."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.registry import DefaultScope

from mmsim.evaluation import dense_probe_miou, load_dense_probe_set
from .conftest import REPO

sys.path.insert(0, osp.join(REPO, 'benchmarks', 'replay'))
import run as replay  # noqa: E402


def test_dense_column_is_the_dense_probe_of_the_encoder(shapes_det_root):
    config = osp.join(replay.CONFIG_DIR, replay.METHODS['MAE'])
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        result = replay.dense_metrics(config, None, shapes_det_root)
        model, _ = replay._build_model(config, None)  # seeded: same init
    splits = [
        load_dense_probe_set(
            osp.join(shapes_det_root, s), osp.join(shapes_det_root, 'labels', s))
        for s in ('train', 'val')
    ]
    expected = dense_probe_miou(model, *splits, num_classes=9)['mIoU']
    assert result['dense'] == pytest.approx(expected)
    assert torch.isfinite(torch.tensor(result['dense']))


def test_table_has_every_column():
    row = dict(linear=1., knn=2., dense=3., box=4., mask=5.)
    lines = replay.markdown_table({'MAE': row}).splitlines()
    assert 'dense-probe mIoU' in lines[0]
    assert lines[2] == '| MAE | 1.0 | 2.0 | 3.0 | 4.0 | 5.0 |'
