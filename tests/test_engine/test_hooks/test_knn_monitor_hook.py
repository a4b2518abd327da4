# Copyright (c) mmsim contributors. All rights reserved.
import glob
import json
import os.path as osp

import pytest
from mmengine.runner import Runner

from mmsim.engine.hooks import KNNMonitorHook
from mmsim.evaluation import (dense_probe_miou, extract_pooled_features,
                              knn_accuracy)
from tests._host import CLS_SCOPE, CUSTOM_DATASET, HOOKS, PACK_CLS_INPUTS
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
    # the raw-pixel baseline: logged once, at the start
    pixels = [(r['step'], r['knn/pixels']) for r in logged
              if 'knn/pixels' in r]
    assert pixels == [(0, pytest.approx(hook.pixel_top1))]
    assert 0. < hook.pixel_top1 <= 100.
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


class _Runner:
    """What the hook reads of a runner before training: dataloaders built
    by mmengine's own builder, a logger and a visualiser that record."""

    build_dataloader = staticmethod(Runner.build_dataloader)

    def __init__(self):
        self.seed, self.epoch, self.max_epochs = 0, 0, 2
        self.lines, self.scalars = [], []
        self.logger = type('Logger', (), {'info': self.lines.append})()
        self.visualizer = type(
            'Visualizer', (), {
                'add_scalars': lambda _, s, step: self.scalars.append(
                    (step, s))
            })()


def _image(path, value):
    import numpy as np
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((20, 24, 3), value, np.uint8)
    pixels[::2] = 255 - value  # stripes: not all images alike
    Image.fromarray(pixels).save(path)


def _scanned_split(root, split):
    return dict(
        batch_size=4,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type=CUSTOM_DATASET,
            data_root=str(root),
            ann_file='',  # the toolbox's folder scan: one subfolder per class
            data_prefix=dict(img_path=f'{split}/'),
            pipeline=[
                dict(type='SIMLoadImageFromFile'),
                dict(type=f'{CLS_SCOPE}.ResizeEdge', scale=16, edge='short'),
                dict(type='CenterCrop', crop_size=16),
                dict(type=PACK_CLS_INPUTS),
            ]))


def _labelled(root, classes=('boot', 'coat', 'shirt')):
    for split, count in (('train', 4), ('val', 2)):
        for index, name in enumerate(classes):
            for i in range(count):
                _image(root / split / name / f'{i}.png', 60 * index + 5 * i)
    return KNNMonitorHook(
        train_dataloader=_scanned_split(root, 'train'),
        val_dataloader=_scanned_split(root, 'val'),
        k=3)


def test_a_meta_folder_in_one_split_is_refused_before_evaluating(tmp_path):
    """The own-images trap: an image list written to train/meta/ makes the
    folder scan take `meta` for a class of train/ only, so `shirt` is 3 in
    train/ and 2 in val/. The hook stops before any evaluation, naming
    both class lists."""
    hook = _labelled(tmp_path)
    (tmp_path / 'train' / 'meta').mkdir()
    (tmp_path / 'train' / 'meta' / 'train.txt').write_text('boot/0.png\n')
    runner = _Runner()
    with pytest.raises(ValueError) as info:
        hook.before_train(runner)
    message = str(info.value)
    assert "['boot', 'coat', 'meta', 'shirt']" in message
    assert "['boot', 'coat', 'shirt']" in message
    assert "only in train: ['meta']" in message
    assert 'train/' in message and 'val/' in message
    assert hook.history == [] and runner.scalars == []


def test_same_class_folders_pass_and_log_the_pixel_baseline(tmp_path):
    """Same class folders: no error; knn/pixels is the kNN of the
    flattened pipeline images (computed here from the dataset itself),
    logged once at step 0, and the pass leaves torch's generator as it
    was (iterating a DataLoader draws from it)."""
    import torch

    from mmsim.evaluation import knn_accuracy
    hook = _labelled(tmp_path)
    runner = _Runner()
    hook.eval_at_start = False  # no model: only the baseline runs
    state = torch.get_rng_state()
    hook.before_train(runner)
    assert torch.equal(torch.get_rng_state(), state)
    loaders = hook._build_loaders(runner)
    pixels = {}
    for split, loader in loaders.items():
        samples = [loader.dataset[i] for i in range(len(loader.dataset))]
        pixels[split] = (
            torch.stack([s['inputs'].reshape(-1) for s in samples]),
            torch.tensor([
                # mmcls: LabelData; mmpretrain: a tensor
                int(getattr(gt, 'label', gt))
                for gt in (s['data_samples'].gt_label for s in samples)
            ]))
    assert pixels['train'][0].shape == (12, 3 * 16 * 16)
    expected = knn_accuracy(*pixels['train'], *pixels['val'], 3, k=3)
    assert runner.scalars == [(0, {'knn/pixels': pytest.approx(expected)})]
    assert hook.pixel_top1 == pytest.approx(expected)
    assert 'knn/pixels: ' in runner.lines[0]
    assert '6 val vs 12 train images' in runner.lines[0]


def test_a_broken_image_in_the_knn_folder_is_named(tmp_path):
    """The kNN loader is SIMLoadImageFromFile: a broken file in a labelled
    folder stops the monitor with the file's name, not mmcv's bare
    `AssertionError: failed to load image`."""
    hook = _labelled(tmp_path)
    broken = tmp_path / 'val' / 'coat' / '9.png'
    broken.write_bytes(b'not a png')
    with pytest.raises(OSError, match='could not load image') as info:
        hook.before_train(_Runner())
    assert str(broken) in str(info.value)
