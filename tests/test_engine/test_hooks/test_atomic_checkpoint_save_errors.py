# Copyright (c) mmsim contributors. All rights reserved.
"""AtomicCheckpointHook through the real runner when a save fails: a full
disk (a real size-limited tmpfs, and ENOSPC injected) or an I/O error
(EIO injected), at the write of the ``.part`` file, at its rename and at
the rename of ``last_checkpoint``."""
import errno
import hashlib
import os
import os.path as osp
import shutil
import subprocess
from collections import deque

import pytest
import torch
from mmengine.fileio import LocalBackend
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmsim.engine import AtomicCheckpointHook, CheckpointSaveError
from mmsim.engine.hooks import atomic_checkpoint_hook
from tests.test_engine.test_sim_runner import tiny_cfg


def _state(runner, hook) -> dict:
    """What a failed save must leave as it was: the checkpoint files (their
    bytes), ``last_checkpoint`` (and the epoch of the checkpoint it names,
    loaded) and the hook's bookkeeping, in the hook and in the message
    hub."""
    work_dir = runner.work_dir
    files = {}
    for name in sorted(os.listdir(work_dir)):
        if name.endswith(('.pth', '.part')):
            with open(osp.join(work_dir, name), 'rb') as f:
                data = f.read()
            files[name] = (len(data), hashlib.sha256(data).hexdigest())
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        last_checkpoint = f.read()
    info = runner.message_hub.runtime_info
    return dict(
        files=files,
        last_checkpoint=last_checkpoint,
        its_epoch=torch.load(last_checkpoint)['meta']['epoch'],
        keep_ckpt_ids=list(hook.keep_ckpt_ids),
        last_ckpt=hook.last_ckpt,
        hub=(info.get('keep_ckpt_ids'), info.get('last_ckpt')))


class _Watch(Hook):
    """Records :func:`_state` after each epoch's checkpoint hook."""

    priority = 'LOWEST'  # after the checkpoint hook (VERY_LOW)

    def __init__(self) -> None:
        self.states = {}

    def after_train_epoch(self, runner) -> None:
        hook = _checkpoint_hook(runner)
        self.states[runner.epoch + 1] = _state(runner, hook)


def _checkpoint_hook(runner) -> AtomicCheckpointHook:
    return next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))


def _states(runner) -> dict:
    """What :class:`_Watch` recorded, by epoch."""
    return next(h for h in runner.hooks if isinstance(h, _Watch)).states


def _runner(shapes_root, work_dir, max_epochs, **hook_args) -> Runner:
    cfg = tiny_cfg(shapes_root, work_dir, max_epochs=max_epochs)
    cfg.custom_hooks = []  # the kNN monitor: slow and beside the point
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1, **hook_args)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(_Watch())
    return runner


def _inject(monkeypatch, code: int, where: str, name: str) -> list:
    """Make the save of ``name`` fail once with ``OSError(code)``.

    ``where``: 'write' (mmengine's ``save_checkpoint`` writes the bytes
    torch.save made through ``LocalBackend.put``: half of them are written
    to the ``.part`` file, then the error), 'rename' (``os.replace`` of the
    complete ``.part`` file) or 'last_checkpoint' (the rename of
    ``last_checkpoint.part``, after the checkpoint's).

    Returns:
        list: Once it failed: the error raised and the size the ``.part``
        file had then.
    """
    raised = []
    put, replace = LocalBackend.put, os.replace

    def failing_put(self, obj, filepath):
        if str(filepath).endswith(name + '.part') and not raised:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raised.append(OSError(code, os.strerror(code), str(filepath)))
            raised.append(osp.getsize(filepath))
            raise raised[0]
        return put(self, obj, filepath)

    def failing_replace(src, dst, *args, **kwargs):
        if where == 'rename':
            fails = str(src).endswith(name + '.part')
        else:  # once the checkpoint is in place
            fails = str(src).endswith('last_checkpoint.part') and osp.exists(
                osp.join(osp.dirname(src), name))
        if fails and not raised:
            raised.append(OSError(code, os.strerror(code), src, None, dst))
            raised.append(osp.getsize(src))
            raise raised[0]
        return replace(src, dst, *args, **kwargs)

    if where == 'write':
        monkeypatch.setattr(LocalBackend, 'put', failing_put)
    else:
        monkeypatch.setattr(atomic_checkpoint_hook.os, 'replace',
                            failing_replace)
    return raised


def _check_message(text: str, work_dir: str, code: int, needed: int) -> None:
    """The path, the bytes needed (``needed``: the previous checkpoint's
    size), the bytes free and what to do."""
    previous = osp.join(work_dir, 'epoch_1.pth')
    assert f'could not save the checkpoint {work_dir}/epoch_2.pth' in text
    assert f'{errno.errorcode[code]}: {os.strerror(code)}' in text
    assert (f'It needs about {needed} bytes (' in text
            and f'the size of the previous checkpoint {previous}' in text)
    assert f'are free on the file system of {work_dir}' in text
    assert 'last_checkpoint are unchanged, none was deleted' in text
    advice = 'Free space there' if code == errno.ENOSPC else 'I/O error'
    assert advice in text and 'next interval' in text


def _check_nothing_changed(before: dict, after: dict, work_dir: str) -> None:
    assert after == before
    assert before['files'].keys() == {'epoch_1.pth'}
    assert before['last_checkpoint'] == osp.join(work_dir, 'epoch_1.pth')
    assert before['keep_ckpt_ids'] == [1] and before['its_epoch'] == 1


FAULTS = [(code, where) for code in (errno.ENOSPC, errno.EIO)
          for where in ('write', 'rename')]
FAULT_IDS = [f'{errno.errorcode[c]}-{w}' for c, w in FAULTS]


@pytest.mark.parametrize('code,where', FAULTS, ids=FAULT_IDS)
def test_a_failed_save_stops_and_changes_nothing(shapes_root, tmp_path,
                                                 monkeypatch, one_thread, code,
                                                 where):
    work_dir = str(tmp_path)
    runner = _runner(shapes_root, work_dir, max_epochs=3)
    raised = _inject(monkeypatch, code, where, 'epoch_2.pth')
    with pytest.raises(CheckpointSaveError) as info:
        runner.train()
    error = info.value
    assert isinstance(error, OSError) and error.errno == code
    assert error.__cause__ is raised[0] and raised[1] > 0  # a partial file
    assert error.path == osp.join(work_dir, 'epoch_2.pth')
    assert error.bytes_needed == osp.getsize(osp.join(work_dir, 'epoch_1.pth'))
    assert error.bytes_free > 0 and f'{error.bytes_free} bytes' in str(error)
    _check_message(str(error), work_dir, code, error.bytes_needed)
    assert "on_save_error='continue'" in str(error)
    assert runner.epoch == 1  # stopped in the save of epoch 2
    before = _states(runner)[1]
    _check_nothing_changed(before, _state(runner, _checkpoint_hook(runner)),
                           work_dir)


@pytest.mark.parametrize(
    'code,where',
    FAULTS + [(errno.ENOSPC, 'last_checkpoint')],
    ids=FAULT_IDS + ['ENOSPC-last_checkpoint'])
def test_continue_logs_and_saves_at_the_next_interval(shapes_root, tmp_path,
                                                      monkeypatch, one_thread,
                                                      code, where):
    work_dir = str(tmp_path)
    runner = _runner(
        shapes_root, work_dir, max_epochs=3, on_save_error='continue')
    raised = _inject(monkeypatch, code, where, 'epoch_2.pth')
    runner.train()
    assert runner.epoch == 3 and raised
    states = _states(runner)
    # after the failed save of epoch 2, all as after epoch 1
    _check_nothing_changed(states[1], states[2], work_dir)
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    warning = log[log.index('WARNING - [Errno'):]
    _check_message(warning, work_dir, code,
                   states[1]['files']['epoch_1.pth'][0])
    assert "on_save_error='continue': training goes on" in warning
    # epoch 3 saved; max_keep_ckpts=1 then deleted epoch_1.pth
    assert states[3]['files'].keys() == {'epoch_3.pth'}
    epoch_3 = osp.join(work_dir, 'epoch_3.pth')
    assert states[3]['last_checkpoint'] == epoch_3
    assert states[3]['keep_ckpt_ids'] == [3]
    assert states[3]['hub'] == ([3], epoch_3)
    assert not [n for n in os.listdir(work_dir) if n.endswith('.part')]
    runtime_info = torch.load(epoch_3)['message_hub']['runtime_info']
    assert runtime_info['keep_ckpt_ids'] == [3]
    assert runtime_info['last_ckpt'] == epoch_3


def test_a_failed_best_checkpoint_keeps_the_previous_best(
        shapes_root, tmp_path, monkeypatch, one_thread):
    work_dir = str(tmp_path)
    runner = _runner(
        shapes_root,
        work_dir,
        max_epochs=2,
        save_best='acc',
        rule='greater',
        on_save_error='continue')
    runner.train()
    hook = _checkpoint_hook(runner)
    hook.after_val_epoch(runner, dict(acc=0.5))
    best_2 = osp.join(work_dir, 'best_acc_epoch_2.pth')
    runner.train_loop._epoch = 3  # a later evaluation, a better score
    raised = _inject(monkeypatch, errno.ENOSPC, 'write',
                     'best_acc_epoch_3.pth')
    hook.after_val_epoch(runner, dict(acc=0.7))
    assert raised
    names = os.listdir(work_dir)
    assert 'best_acc_epoch_2.pth' in names
    assert not [n for n in names if 'epoch_3' in n or n.endswith('.part')]
    assert hook.best_ckpt_path == best_2
    assert runner.message_hub.get_info('best_ckpt') == best_2
    assert runner.message_hub.get_info('best_score') == 0.5
    hook.after_val_epoch(runner, dict(acc=0.7))  # the disk has room again
    names = os.listdir(work_dir)
    assert 'best_acc_epoch_3.pth' in names
    assert 'best_acc_epoch_2.pth' not in names


def test_an_invalid_policy_is_refused():
    with pytest.raises(ValueError) as info:
        AtomicCheckpointHook(interval=1, on_save_error='ignore')
    message = str(info.value)
    assert "got 'ignore'" in message
    assert "'stop'" in message and "'continue'" in message


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of its own (256 MiB, shrunk by the test), or a skip when
    this process may not mount one."""
    folder = tmp_path / 'disk'
    folder.mkdir()
    if shutil.which('mount') is None:
        pytest.skip('no mount command')
    done = subprocess.run(
        ['mount', '-t', 'tmpfs', '-o', 'size=256m', 'tmpfs',
         str(folder)],
        capture_output=True,
        text=True)
    if done.returncode != 0:
        pytest.skip('cannot mount a tmpfs here (mount -t tmpfs: '
                    f'{done.stderr.strip() or done.returncode})')
    yield str(folder)
    subprocess.run(['umount', '-l', str(folder)], capture_output=True)


class _ShrinkDisk(Hook):
    """After the first checkpoint, leave room for half of another one."""

    priority = 'LOWEST'

    def after_train_epoch(self, runner) -> None:
        if runner.epoch != 0:
            return
        work_dir = runner.work_dir
        checkpoint = osp.getsize(osp.join(work_dir, 'epoch_1.pth'))
        size = shutil.disk_usage(work_dir).used + checkpoint // 2
        subprocess.run(['mount', '-o', f'remount,size={size}', work_dir],
                       check=True)
        assert shutil.disk_usage(work_dir).free < checkpoint


def test_a_real_full_disk(shapes_root, small_disk, one_thread):
    work_dir = small_disk
    runner = _runner(shapes_root, work_dir, max_epochs=2)
    runner.register_hook(_ShrinkDisk())
    with pytest.raises(CheckpointSaveError) as info:
        runner.train()
    error = info.value
    assert error.errno == errno.ENOSPC
    assert isinstance(error.__cause__, OSError)
    assert error.__cause__.errno == errno.ENOSPC
    _check_message(str(error), work_dir, errno.ENOSPC, error.bytes_needed)
    assert error.bytes_needed == osp.getsize(osp.join(work_dir, 'epoch_1.pth'))
    assert 0 < error.bytes_free < error.bytes_needed
    before = _states(runner)[1]
    after = _state(runner, _checkpoint_hook(runner))
    _check_nothing_changed(before, after, work_dir)
    # rolled back to a deque of the hook's maxlen, as mmengine builds it
    keep = _checkpoint_hook(runner).keep_ckpt_ids
    assert isinstance(keep, deque) and keep.maxlen == 1
