# Copyright (c) mmsim contributors. All rights reserved.
"""The fine-tune driver's detection task: the tiny config adapted by
``build_finetune_config`` and run by ``run_finetune`` through mmdet's real
runner on generated COCO data."""
import json
import math
import os.path as osp

import pytest
import torch

import mmsim.det  # noqa: F401  (registers the mmdet components)
from mmsim.datasets import SHAPE_CLASSES, generate_shapes_dataset
from mmsim.transfer import build_finetune_config, format_metrics, run_finetune
from mmsim.transfer.vitdet import coco_classes
from .._shipped_configs import TRANSFER_CONFIGS
from ..test_det._sim_checkpoint import save_sim_checkpoint

TINY_CONFIG = TRANSFER_CONFIGS['det']

# the tiny config keeps detections of any score, so CocoMetric computes AP
# even after a few iterations; this checks that overrides reach the config
OVERRIDES = dict(model=dict(test_cfg=dict(rcnn=dict(max_per_img=10))))


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp('shapes'))
    generate_shapes_dataset(
        out_dir, num_train=1, num_val=0, num_det_train=8, num_det_val=4)
    return out_dir + '/det'


def test_tiny_config_classes_are_the_generator_classes():
    from mmengine.config import Config
    cfg = Config.fromfile(TINY_CONFIG)
    assert cfg.classes == SHAPE_CLASSES
    assert cfg.model.roi_head.bbox_head.num_classes == len(SHAPE_CLASSES)


def test_config_follows_the_data(coco_root, tmp_path):
    assert coco_classes(coco_root + '/annotations/instances_val.json') == \
        SHAPE_CLASSES
    cfg = build_finetune_config(
        'det', TINY_CONFIG, coco_root, str(tmp_path), max_iters=50)
    assert cfg.train_dataloader.dataset.metainfo.classes == SHAPE_CLASSES
    assert cfg.model.roi_head.mask_head.num_classes == len(SHAPE_CLASSES)
    assert cfg.param_scheduler[1].milestones == [44, 48]
    assert cfg.val_cfg is None and cfg.test_evaluator.ann_file.startswith(
        coco_root)
    cfg = build_finetune_config(
        'det', TINY_CONFIG, coco_root, str(tmp_path), cfg_options=OVERRIDES)
    assert cfg.model.test_cfg.rcnn.max_per_img == 10
    assert cfg.model.test_cfg.rcnn.score_thr == 0.


def _check_metrics(metrics):
    for key in ('coco/bbox_mAP', 'coco/segm_mAP', 'coco/bbox_mAP_50',
                'coco/segm_mAP_50'):
        assert key in metrics, sorted(metrics)
        assert 0. <= metrics[key] <= 1. and not math.isnan(metrics[key])


def test_smoke_finetune_from_sim_checkpoint(coco_root, tmp_path, capsys,
                                            one_thread):
    path = str(tmp_path / 'sim.pth')
    sim = save_sim_checkpoint(
        path, embed_dims=64, num_layers=2, num_heads=2, img_size=96)
    metrics = run_finetune(
        'det',
        TINY_CONFIG,
        coco_root,
        str(tmp_path / 'work'),
        sim_checkpoint=path,
        max_iters=4,
        cfg_options=OVERRIDES)
    _check_metrics(metrics)
    assert 'mapped' in capsys.readouterr().out
    converted = torch.load(str(tmp_path / 'work' /
                               'sim_vitdet_backbone.pth'))['state_dict']
    assert torch.equal(converted['layers.1.attn.qkv.weight'],
                       sim.backbone.layers[1].attn.qkv.weight)
    print(format_metrics({'SIM': metrics}))


def test_smoke_finetune_from_random_init(coco_root, tmp_path, one_thread):
    metrics_file = str(tmp_path / 'metrics.json')
    metrics = run_finetune(
        'det',
        TINY_CONFIG,
        coco_root,
        str(tmp_path / 'work'),
        max_iters=4,
        cfg_options=OVERRIDES,
        metrics_file=metrics_file)
    _check_metrics(metrics)
    with open(metrics_file) as f:  # written for drivers that resume
        assert json.load(f) == pytest.approx({
            k: float(v)
            for k, v in metrics.items()
        })
    assert not osp.exists(metrics_file + '.part')
    table = format_metrics({'random': metrics}).splitlines()
    assert len(table) == 3 and table[2].startswith('| random | ')


def test_tiny_detector_learns(coco_root, tmp_path, one_thread):
    """The shipped schedule's first 40 iterations (warm-up included) on 8
    images: the training loss falls well below its start."""
    from mmengine.runner import Runner
    cfg = build_finetune_config(
        'det',
        TINY_CONFIG,
        coco_root,
        str(tmp_path),
        cfg_options=dict(
            train_cfg=dict(max_iters=40),
            default_hooks=dict(
                logger=dict(interval=1), checkpoint=dict(interval=1000))))
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 40
    first, last = losses[:5].mean(), losses[-5:].mean()
    assert last < 0.6 * first, (first, last)


def test_random_init_takes_the_checkpoints_arch(coco_root, tmp_path,
                                                one_thread):
    import glob

    from mmengine.config import Config
    path = str(tmp_path / 'sim.pth')
    save_sim_checkpoint(
        path, embed_dims=64, num_layers=3, num_heads=2, img_size=96)
    work_dir = tmp_path / 'work'
    run_finetune(
        'det',
        TINY_CONFIG,
        coco_root,
        str(work_dir),
        max_iters=1,
        cfg_options=OVERRIDES,
        arch_from=path)
    (dumped, ) = glob.glob(str(work_dir / '*.py'))
    backbone = Config.fromfile(dumped).model.backbone
    assert backbone.arch == dict(
        embed_dims=64, num_layers=3, num_heads=2, feedforward_channels=256)
    assert backbone.init_cfg is None  # random weights, not the checkpoint's
    assert not (work_dir / 'sim_vitdet_backbone.pth').exists()
