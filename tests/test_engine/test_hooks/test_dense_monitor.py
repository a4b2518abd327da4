# Copyright (c) mmsim contributors. All rights reserved.
"""KNNMonitorHook's ``dense_nn`` option (dense retrieval, ``dense/nn_mIoU``)
through the real runner, alone and beside ``dense_probe``."""
import glob
import json
import os.path as osp

import pytest
from mmengine.runner import Runner

from mmsim.evaluation import extract_patch_features, retrieval_miou
from tests._host import HOOKS
from tests.test_engine.test_sim_runner import tiny_cfg


def _train(cfg, work_dir):
    """Train, return the monitor, its scalars.json records and log text."""
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(
        h for h in runner.hooks if type(h).__name__ == 'KNNMonitorHook')
    run_dir = glob.glob(osp.join(work_dir, '2*'))[0]
    with open(osp.join(run_dir, 'vis_data', 'scalars.json')) as f:
        logged = [json.loads(line) for line in f]
    with open(glob.glob(osp.join(run_dir, '*.log'))[0]) as f:
        log = f.read()
    return runner, hook, logged, log


def _steps(logged, key):
    return [(r['step'], r[key]) for r in logged if key in r]


def _recomputed(runner, hook):
    """dense/nn_mIoU of the final encoder, recomputed beside the hook."""
    cfg = hook.dense_nn
    train_set, val_set = hook._dense.load_sets(cfg)
    feats = [
        extract_patch_features(runner.model, data.images)
        for data in (train_set, val_set)
    ]
    return retrieval_miou(
        feats[0],
        train_set.label_maps,
        feats[1],
        val_set.label_maps,
        9,
        k=cfg['k'],
        temperature=cfg['temperature'],
        standardise_features=cfg['standardise'],
        ignore_index=255)['mIoU']


def test_dense_nn_beside_the_dense_probe(shapes_root, tmp_path):
    """Both options: both scalars at every evaluated epoch (0 and the last),
    in scalars.json, the log and the history; one read of the shared
    image sets; the last value is the final encoder's retrieval mIoU."""
    cfg = tiny_cfg(shapes_root, str(tmp_path), max_epochs=2)
    monitor = cfg.custom_hooks[0]
    # the dense probe's data keys (as the quick-start config sets them)
    monitor.update(interval=2, dense_nn=dict(monitor.dense_probe))
    for key in ('l2', 'max_iter'):
        monitor.dense_nn.pop(key, None)
    runner, hook, logged, log = _train(cfg, str(tmp_path))
    assert [h['epoch'] for h in hook.history] == [0, 2]
    for key, entry in (('dense/mIoU', 'dense_miou'), ('dense/nn_mIoU',
                                                      'dense_nn_miou')):
        assert _steps(logged, key) == [(h['epoch'], pytest.approx(h[entry]))
                                       for h in hook.history]
    for entry in hook.history:
        assert 0. <= entry['dense_nn_miou'] <= 100.
        line = f'Monitor [epoch {entry["epoch"]}/2]  dense/nn_mIoU: ' \
            f'{entry["dense_nn_miou"]:.2f} %  (4 val images, 4x4 patches, ' \
            'memory of 8, k=30, T=0.02; '
        assert line in log
        assert f'Monitor [epoch {entry["epoch"]}/2]  dense/mIoU: ' in log
    # the same data keys: the two options read the folders once
    probe_sets = hook._load_dense_sets()
    nn_sets = hook._dense.load_sets(hook.dense_nn)
    assert all(a is b for a, b in zip(probe_sets, nn_sets))
    assert len(hook._dense._sets) == 2
    assert hook.history[-1]['dense_nn_miou'] == pytest.approx(
        _recomputed(runner, hook))


def test_dense_nn_alone(shapes_root, tmp_path):
    """dense_nn without dense_probe, on fewer memory images, standardised:
    only dense/nn_mIoU beside kNN, its own options in the log line."""
    cfg = tiny_cfg(shapes_root, str(tmp_path), max_epochs=2)
    cfg.custom_hooks[0].update(
        interval=2,
        eval_at_start=False,
        dense_probe=None,
        dense_nn=dict(
            data_root=shapes_root + 'det/',
            num_classes=9,
            max_train_images=5,
            k=4,
            temperature=0.1,
            standardise=True))
    runner, hook, logged, log = _train(cfg, str(tmp_path))
    assert hook.dense_probe is None
    assert [sorted(h)
            for h in hook.history] == [['dense_nn_miou', 'epoch', 'top1']]
    assert _steps(logged, 'dense/mIoU') == []
    value = hook.history[0]['dense_nn_miou']
    assert _steps(logged, 'dense/nn_mIoU') == [(2, pytest.approx(value))]
    assert 0. <= value <= 100.
    assert f'Monitor [epoch 2/2]  dense/nn_mIoU: {value:.2f} %  (4 val ' \
        'images, 4x4 patches, memory of 5, k=4, T=0.1, standardised; ' in log
    assert 'dense/mIoU' not in log
    assert value == pytest.approx(_recomputed(runner, hook))


def _build(**dense_nn):
    return HOOKS.build(
        dict(
            type='KNNMonitorHook',
            train_dataloader=dict(dataset=dict()),
            val_dataloader=dict(dataset=dict()),
            dense_nn=dense_nn))


@pytest.mark.parametrize('option, match', [
    (dict(data_root='x/'), r'dense_nn\.num_classes'),
    (dict(num_classes=1), r'dense_nn\.num_classes'),
    (dict(num_classes=9, img_dir='x'), r"dense_nn: unknown keys \['img_dir'"),
    (dict(num_classes=9, l2=0.1), r"unknown keys \['l2'\]"),
    (dict(num_classes=9, k=0), r'dense_nn\.k '),
    (dict(num_classes=9, k=2.5), r'dense_nn\.k '),
    (dict(num_classes=9, k=True), r'dense_nn\.k '),
    (dict(num_classes=9, temperature=0), r'dense_nn\.temperature'),
    (dict(num_classes=9, temperature=float('nan')), r'dense_nn\.temperature'),
    (dict(num_classes=9, temperature='0.02'), r'dense_nn\.temperature'),
    (dict(num_classes=9, standardise='yes'), r'dense_nn\.standardise'),
    (dict(num_classes=9, max_train_images=0), r'dense_nn\.max_train_images'),
    (dict(num_classes=9, img_size=64.), r'dense_nn\.img_size'),
])
def test_bad_dense_nn_options_raise(option, match):
    with pytest.raises(ValueError, match=match):
        _build(**option)


def test_dense_nn_not_a_dict_raises():
    with pytest.raises(ValueError, match='dense_nn must be a dict'):
        HOOKS.build(
            dict(
                type='KNNMonitorHook',
                train_dataloader=dict(dataset=dict()),
                val_dataloader=dict(dataset=dict()),
                dense_nn=['x']))


def test_defaults_and_too_few_classes(shapes_root):
    """The defaults fill in; label maps with more classes than num_classes
    stop the evaluation, naming the key, before the model is used."""
    hook = _build(data_root=shapes_root + 'det/', num_classes=3)
    assert hook.dense_probe is None
    assert (hook.dense_nn['k'], hook.dense_nn['temperature'],
            hook.dense_nn['standardise']) == (30, 0.02, False)
    with pytest.raises(ValueError, match=r'set dense_nn\.num_classes'):
        hook.evaluate_dense_nn(None, 0)
