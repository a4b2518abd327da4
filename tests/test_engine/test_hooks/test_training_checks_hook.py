# Copyright (c) mmsim contributors. All rights reserved.
"""TrainingChecksHook with mmengine's real Runner: the accumulation check
under a real 2-process DDP run (gloo, CPU), and the deferred loss check
read at the logging interval, before any checkpoint."""
import glob
import os
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from tests._dist_utils import run_distributed
from tests._host import QUICKSTART_CONFIG
from tests._shapes_data import shapes_folder

QUICK_START = QUICKSTART_CONFIG  # the host's


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    return shapes_folder(
        tmp_path_factory, 'checks_shapes', num_train=16, num_val=8)


def small_quickstart(data_root: str, work_dir: str, batch_size: int,
                     **model) -> Config:
    """The shipped quick start, one epoch of 16 images, 2 blocks, its
    hooks but the kNN monitor."""
    cfg = Config.fromfile(QUICK_START)
    cfg.model.backbone.arch.num_layers = 2
    cfg.model.update(model)
    loader = cfg.train_dataloader
    loader.update(batch_size=batch_size, num_workers=0)
    loader.dataset.update(
        data_root=data_root, classes=data_root + 'meta/classes.txt')
    cfg.custom_hooks = []
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = cfg.param_scheduler[:1]
    cfg.default_hooks.logger.interval = 2
    cfg.work_dir = work_dir
    return cfg


def _train_with_accumulation(rank, world_size, data_root, work_dir):
    """Two runs on 2 processes with accumulation 2: interval 1 must be
    refused before training; interval 2 moves the target once per window.
    """
    os.environ['LOCAL_RANK'] = str(rank)
    results = {}
    for interval in (1, 2):
        cfg = small_quickstart(
            data_root,
            osp.join(work_dir, f'interval{interval}'),
            batch_size=2,
            target_update_interval=interval)
        cfg.optim_wrapper.accumulative_counts = 2
        # the process group exists already (gloo), so mmengine does not
        # initialise one (it would call torch.cuda.set_device); DDP on CPU
        cfg.launcher = 'pytorch'
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None)
        runner = Runner.from_cfg(cfg)
        assert is_model_wrapper(runner.model)
        try:
            runner.train()
        except ValueError as error:
            results[interval] = str(error)
            continue
        target = runner.model.module.target
        results[interval] = dict(
            iters=runner.iter,
            updates=int(target.steps),
            target={
                k: v.clone()
                for k, v in target.module.state_dict().items()
            })
    return results


def test_accumulation_is_checked_under_ddp(shapes_root, tmp_path):
    ranks = run_distributed(
        _train_with_accumulation, args=(shapes_root, str(tmp_path)))
    for result in ranks:
        assert 'accumulates 2 iterations' in result[1]
        assert 'target_update_interval=1' in result[1]
        # 8 images per process, batch 2: iterations 0-3, windows {0, 1}
        # and {2, 3}: updates at 0 (the copy) and 2
        assert result[2]['iters'] == 4 and result[2]['updates'] == 2
    for key, value in ranks[0][2]['target'].items():
        assert (value == ranks[1][2]['target'][key]).all(), key


def test_non_finite_loss_stops_at_the_logging_interval(shapes_root, tmp_path):
    """The loss is NaN from iteration 0 (neg_weight set to NaN after the
    build, which refuses it); the step does not
    wait for the device to find out, the hook reads it after iteration 1
    (logger interval 2), before the epoch's checkpoint."""
    cfg = small_quickstart(shapes_root, str(tmp_path), batch_size=4)
    runner = Runner.from_cfg(cfg)
    runner.model.head.neg_weight = float('nan')
    with pytest.raises(FloatingPointError, match='first at iteration 0'):
        runner.train()
    assert runner.iter == 1
    assert glob.glob(
        osp.join(str(tmp_path), '**', '*.pth'), recursive=True) == []


def test_interval_must_be_positive():
    from mmsim.engine.hooks import TrainingChecksHook
    with pytest.raises(ValueError, match='interval'):
        TrainingChecksHook(interval=0)
