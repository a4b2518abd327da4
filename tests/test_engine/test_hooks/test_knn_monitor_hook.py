# Copyright (c) mmsim contributors. All rights reserved.
import glob
import json
import os.path as osp

import pytest
from mmengine.runner import Runner
from mmselfsup.registry import HOOKS

from mmsim.evaluation import (dense_probe_miou, extract_pooled_features,
                              knn_accuracy)
from tests.test_engine.test_sim_runner import tiny_cfg


def test_logs_knn_every_interval_through_the_runner(shapes_root, tmp_path):
    cfg = tiny_cfg(shapes_root, str(tmp_path), max_epochs=2)
    cfg.custom_hooks[0].interval = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(
        h for h in runner.hooks if type(h).__name__ == 'KNNMonitorHook')
    assert [h['epoch'] for h in hook.history] == [0, 1, 2]
    # The last logged value is the kNN accuracy of the final encoder,
    # recomputed here independently of the hook.
    loaders = hook._build_loaders(runner)
    feats = [
        extract_pooled_features(runner.model, loaders[split])
        for split in ('train', 'val')
    ]
    expected = knn_accuracy(*feats[0], *feats[1], num_classes=8)
    assert hook.history[-1]['top1'] == pytest.approx(expected)
    scalars = glob.glob(
        osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))
    with open(scalars[0]) as f:
        logged = [json.loads(line) for line in f]
    knn = [(r['step'], r['knn/top1']) for r in logged if 'knn/top1' in r]
    assert knn == [(h['epoch'], pytest.approx(h['top1']))
                   for h in hook.history]
    # the dense probe runs beside kNN and logs dense/mIoU at the same steps
    dense = [(r['step'], r['dense/mIoU']) for r in logged if 'dense/mIoU' in r]
    assert dense == [(h['epoch'], pytest.approx(h['dense_miou']))
                     for h in hook.history]
    train_set, val_set = hook._load_dense_sets()
    assert len(train_set.names) == 8 and len(val_set.names) == 4
    expected = dense_probe_miou(runner.model, train_set, val_set, 9)
    assert hook.history[-1]['dense_miou'] == pytest.approx(expected['mIoU'])
    assert 0. < expected['mIoU'] <= 100.


def test_every_other_epoch_and_the_last(shapes_root, tmp_path):
    cfg = tiny_cfg(shapes_root, str(tmp_path), max_epochs=3)
    cfg.custom_hooks[0].update(interval=2, eval_at_start=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(
        h for h in runner.hooks if type(h).__name__ == 'KNNMonitorHook')
    assert [h['epoch'] for h in hook.history] == [2, 3]


@pytest.mark.parametrize('kwargs, match', [
    (dict(interval=0), 'interval'),
    (dict(k=0), 'k '),
    (dict(k=2.5), 'k '),
    (dict(temperature=0.), 'temperature'),
    (dict(temperature=float('nan')), 'temperature'),
    (dict(temperature='0.07'), 'temperature'),
    (dict(train_dataloader=dict(batch_size=2)), 'train_dataloader'),
    (dict(dense_probe=dict(data_root='x/')), 'num_classes'),
    (dict(dense_probe=dict(num_classes=9, img_dir='x')), "'img_dir'"),
    (dict(dense_probe=['x']), 'dense_probe'),
])
def test_bad_config_raises(kwargs, match):
    cfg = dict(
        type='KNNMonitorHook',
        train_dataloader=dict(dataset=dict()),
        val_dataloader=dict(dataset=dict()))
    cfg.update(kwargs)
    with pytest.raises(ValueError, match=match):
        HOOKS.build(cfg)
