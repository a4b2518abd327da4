# Copyright (c) mmsim contributors. All rights reserved.
"""AtomicCheckpointHook through the real runner: what a crash during a
save leaves, with mmengine's hook and with ours."""
import os
import os.path as osp

import pytest
import torch
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmengine.hooks import Hook
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.runner import Runner

from mmsim.engine import AtomicCheckpointHook
from tests._host import HOOKS as HOST_HOOKS
from tests.test_engine.test_sim_runner import tiny_cfg


class _CrashOnSave(Hook):
    """Raises inside ``runner.save_checkpoint`` of a given epoch: the
    state a kill during that write leaves on the disk."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if checkpoint['meta']['epoch'] == self.epoch:
            raise KeyboardInterrupt('killed while saving')


def _listing(work_dir: str) -> list:
    """The checkpoints, partial files and last_checkpoint of a work dir."""
    return sorted(
        n for n in os.listdir(work_dir)
        if n.endswith(('.pth', '.part', 'last_checkpoint')))


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def _crash_in_second_save(shapes_root, work_dir, hook_type):
    cfg = tiny_cfg(shapes_root, work_dir, max_epochs=2)
    cfg.default_hooks.checkpoint = dict(
        type=hook_type, interval=1, max_keep_ckpts=1)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(_CrashOnSave(epoch=2))
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    return runner


def test_found_by_name_from_every_toolbox_scope():
    for registry in (MMENGINE_HOOKS, HOST_HOOKS, MMDET_HOOKS):
        assert registry.get('AtomicCheckpointHook') is AtomicCheckpointHook


def test_mmengine_hook_loses_the_run_when_a_save_is_interrupted(
        shapes_root, tmp_path):
    """The 'before': with max_keep_ckpts=1 mmengine deletes epoch_1.pth
    before it writes epoch_2.pth, so a crash in that write leaves no
    checkpoint, and last_checkpoint is not updated to anything loadable."""
    work_dir = str(tmp_path)
    _crash_in_second_save(shapes_root, work_dir, 'CheckpointHook')
    assert not [n for n in _listing(work_dir) if n.endswith('.pth')]
    assert not osp.exists(_last_checkpoint(work_dir))


def test_interrupted_save_keeps_the_previous_checkpoint(shapes_root, tmp_path):
    work_dir = str(tmp_path)
    _crash_in_second_save(shapes_root, work_dir, 'AtomicCheckpointHook')
    assert _listing(work_dir) == ['epoch_1.pth', 'last_checkpoint']
    assert _last_checkpoint(work_dir) == osp.join(work_dir, 'epoch_1.pth')
    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'))
    assert ckpt['meta']['epoch'] == 1
    assert ckpt['message_hub']['runtime_info']['keep_ckpt_ids'] == [1]
    # resuming continues from it and ends where an uninterrupted run ends
    cfg = tiny_cfg(shapes_root, work_dir, max_epochs=2, resume=True)
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1)
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 8 and resumed.epoch == 2
    assert _listing(work_dir) == ['epoch_2.pth', 'last_checkpoint']
    assert _last_checkpoint(work_dir) == osp.join(work_dir, 'epoch_2.pth')


def test_keeps_the_newest_and_leaves_no_partial_file(shapes_root, tmp_path):
    work_dir = str(tmp_path)
    cfg = tiny_cfg(shapes_root, work_dir, max_epochs=3)
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=2)
    # a partial file a killed run left behind is removed at the start
    with open(osp.join(work_dir, 'epoch_7.pth.part'), 'wb') as f:
        f.write(b'\x80\x02partial')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert _listing(work_dir) == [
        'epoch_2.pth', 'epoch_3.pth', 'last_checkpoint'
    ]
    ckpt = torch.load(osp.join(work_dir, 'epoch_3.pth'))
    assert ckpt['meta']['epoch'] == 3 and ckpt['meta']['iter'] == 12
    assert ckpt['message_hub']['runtime_info']['keep_ckpt_ids'] == [2, 3]
    assert ckpt['message_hub']['runtime_info']['last_ckpt'] == osp.join(
        work_dir, 'epoch_3.pth')
    for key, value in runner.model.state_dict().items():
        torch.testing.assert_close(ckpt['state_dict'][key], value, msg=key)


def test_best_checkpoint_replaced_only_after_the_new_one(
        shapes_root, tmp_path):
    work_dir = str(tmp_path)
    cfg = tiny_cfg(shapes_root, work_dir, max_epochs=2)
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook',
        interval=1,
        save_best='acc',
        rule='greater')
    runner = Runner.from_cfg(cfg)
    runner.train()  # writes epoch_{1,2}.pth; then two evaluations
    hook = next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))
    hook.after_val_epoch(runner, dict(acc=0.5))
    assert 'best_acc_epoch_2.pth' in _listing(work_dir)
    runner.train_loop._epoch = 3  # a later evaluation, a better score
    hook.after_val_epoch(runner, dict(acc=0.7))
    names = _listing(work_dir)
    assert 'best_acc_epoch_3.pth' in names
    assert 'best_acc_epoch_2.pth' not in names
    assert not [n for n in names if n.endswith('.part')]
    assert torch.load(osp.join(work_dir,
                               'best_acc_epoch_3.pth'))['meta']['epoch'] == 3
