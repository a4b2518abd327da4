# Copyright (c) mmsim contributors. All rights reserved.
"""Resuming next to a corrupt newest checkpoint: a truncated or bit-flipped
file given to ``resume`` is named and kept; an automatic resume falls back
to the newest complete checkpoint and sets the bad one aside."""
import glob
import os
import os.path as osp
import shutil
import zipfile

import pytest
import torch

from mmsim.engine import CorruptCheckpointError, SIMRunner
from mmsim.engine.runner.resume_checks import (checkpoint_problem,
                                               newest_complete_checkpoint)
from tests.test_engine.test_sim_runner import tiny_cfg

EPOCHS, ITERS_PER_EPOCH = 3, 4  # 32 images, batch 8


def _cfg(data_root, work_dir, **extra):
    cfg = tiny_cfg(data_root, work_dir, max_epochs=EPOCHS, **extra)
    cfg.custom_hooks = []
    return cfg


@pytest.fixture(scope='module')
def two_epochs(shapes_root, tmp_path_factory):
    """A work dir after 2 of 3 epochs: epoch_1.pth, epoch_2.pth."""
    work_dir = str(tmp_path_factory.mktemp('two_epochs'))
    runner = SIMRunner.from_cfg(_cfg(shapes_root, work_dir))
    runner.train_loop._max_epochs = 2
    runner.train()
    return work_dir


def _truncate(path):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def _flip_a_tensor_bit(path):
    """Flip one bit inside a tensor record: torch.load still loads it."""
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)
        offset = info.header_offset + 30 + len(info.filename.encode()) + len(
            info.extra) + info.file_size // 2
    with open(path, 'r+b') as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x10]))
    torch.load(path)  # loads silently: only the CRC-32 tells


CORRUPTIONS = {'truncated': _truncate, 'bit-flipped': _flip_a_tensor_bit}
PROBLEMS = {
    'truncated': 'it is truncated or not a checkpoint',
    'bit-flipped': 'fails its CRC-32 check (a damaged copy)'
}


def _copy(work_dir, tmp_path, how):
    copy = str(tmp_path / 'work')
    shutil.copytree(work_dir, copy)
    newest = osp.join(copy, 'epoch_2.pth')
    with open(osp.join(copy, 'last_checkpoint'), 'w') as f:
        f.write(newest)
    CORRUPTIONS[how](newest)
    with open(newest, 'rb') as f:
        return copy, newest, f.read()


def _log(runner):
    """This run's log (the copied work dir holds the first run's too)."""
    (path, ) = glob.glob(osp.join(runner.log_dir, '*.log'))
    with open(path) as f:
        return f.read()


def test_complete_and_damaged_files(two_epochs, tmp_path):
    good = osp.join(two_epochs, 'epoch_2.pth')
    assert checkpoint_problem(good) is None
    for how in CORRUPTIONS:
        _, bad, _ = _copy(two_epochs, tmp_path / how, how)
        assert PROBLEMS[how] in checkpoint_problem(bad)
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    assert checkpoint_problem(str(empty)) == 'it is empty (0 bytes)'
    legacy = str(tmp_path / 'legacy.pth')
    torch.save(
        dict(state_dict={}, meta={}),
        legacy,
        _use_new_zipfile_serialization=False)
    assert checkpoint_problem(legacy) is None
    _truncate(legacy)
    assert 'truncated' in checkpoint_problem(legacy)


@pytest.mark.parametrize('how', list(CORRUPTIONS))
def test_a_named_corrupt_checkpoint_is_refused_and_kept(
        shapes_root, two_epochs, tmp_path, how):
    work_dir, newest, data = _copy(two_epochs, tmp_path, how)
    runner = SIMRunner.from_cfg(
        _cfg(shapes_root, work_dir, resume=True, load_from=newest))
    with pytest.raises(CorruptCheckpointError) as info:
        runner.train()
    message = str(info.value)
    assert message.startswith(f'cannot resume from {newest}: ')
    assert PROBLEMS[how] in message and 'The file is kept' in message
    with open(newest, 'rb') as f:
        assert f.read() == data


@pytest.mark.parametrize('how', list(CORRUPTIONS))
def test_auto_resume_falls_back_to_the_newest_complete(shapes_root, two_epochs,
                                                       tmp_path, how):
    work_dir, newest, data = _copy(two_epochs, tmp_path, how)
    runner = SIMRunner.from_cfg(_cfg(shapes_root, work_dir, resume=True))
    runner.train()
    log = _log(runner)
    assert f'Not resuming from {newest}: ' in log and PROBLEMS[how] in log
    assert f'kept as {newest}.corrupt' in log
    assert f"Resuming from {osp.join(work_dir, 'epoch_1.pth')}" in log
    # epoch 2 trained again, epoch 1 not
    assert 'Epoch(train) [2][1/4]' in log and '[1][1/4]' not in log
    assert runner.iter == EPOCHS * ITERS_PER_EPOCH
    with open(newest + '.corrupt', 'rb') as f:
        assert f.read() == data
    assert checkpoint_problem(newest) is None  # saved again, complete
    assert checkpoint_problem(osp.join(work_dir, 'epoch_3.pth')) is None


def test_no_complete_checkpoint_stops_and_deletes_nothing(
        shapes_root, two_epochs, tmp_path):
    work_dir, newest, _ = _copy(two_epochs, tmp_path, 'truncated')
    older = osp.join(work_dir, 'epoch_1.pth')
    _flip_a_tensor_bit(older)
    runner = SIMRunner.from_cfg(_cfg(shapes_root, work_dir, resume=True))
    with pytest.raises(CorruptCheckpointError) as info:
        runner.train()
    message = str(info.value)
    assert f'resume found no complete checkpoint in {work_dir}' in message
    assert newest in message and older in message
    assert 'none was deleted' in message
    assert osp.exists(newest) and osp.exists(older)


def test_fallback_takes_the_most_recent_not_the_largest_number(tmp_path):
    """An old preemption's iter_9.pth and a newer epoch_4.pth beside a
    damaged epoch_5.pth (named by last_checkpoint): the fallback is
    epoch_4.pth, the most recently written, although 9 > 4."""
    for age, name in ((300, 'iter_9.pth'), (200, 'epoch_4.pth'),
                      (100, 'epoch_5.pth')):
        path = str(tmp_path / name)
        torch.save(dict(state_dict={}, meta={}), path)
        stamp = os.path.getmtime(path) - age
        os.utime(path, (stamp, stamp))
    newest = str(tmp_path / 'epoch_5.pth')
    _truncate(newest)
    (tmp_path / 'last_checkpoint').write_text(newest)
    path, skipped = newest_complete_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'epoch_4.pth')
    assert [p for p, _ in skipped] == [newest]
