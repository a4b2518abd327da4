# Copyright (c) mmsim contributors. All rights reserved.
"""A preemption notice (SIGTERM / SIGUSR1) in the middle of an epoch: the
run saves the whole state at that iteration and exits 128 + signal;
``--resume`` continues from the next iteration and ends as a run that was
never interrupted (1 process, and 2 gloo processes with only one
signalled)."""
import os
import os.path as osp
import random
import re
import signal
import subprocess
import time

import pytest
import torch

from tests.test_tools.test_kill_and_resume import (ENV, EPOCHS,
                                                   ITERS_PER_EPOCH, REPO,
                                                   _assert_same_run)
from tests.test_tools.test_kill_and_resume import _config as kill_test_config
from tests.test_tools.test_kill_and_resume import _final_checkpoint, _losses
from tests.test_tools.test_train import train_command


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    from tests._shapes_data import shapes_folder
    return shapes_folder(tmp_path_factory, num_train=32, num_val=8)


def _config(path: str, data_root: str, batch_size: int,
            signal_at: tuple = ()) -> str:
    """The kill test's config (the quick start with its PreemptionHook, a
    loading worker restarted every epoch, 2 blocks, 3 epochs of 4
    iterations, a checkpoint every epoch, every loss logged) and
    optionally ``SignalAtIterHook(*signal_at)``."""
    extra = ''
    if signal_at:
        iteration, name, rank = signal_at
        extra = (f"dict(type='SignalAtIterHook', iteration={iteration}, "
                 f'signal_name={name!r}, rank={rank}),')
    return kill_test_config(
        path, data_root,
        "dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1)",
        batch_size, extra)


def _command(config: str, work_dir: str, nproc: int, resume: bool) -> list:
    return train_command(config, work_dir,
                         nproc) + (['--resume'] if resume else [])


def _run(command: list) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300)


def _rank_losses(work_dir: str, nproc: int) -> list:
    loss_file = osp.join(work_dir, 'losses.jsonl')
    if nproc == 1:
        return [_losses(loss_file)]
    return [_losses(f'{loss_file}.rank{r}') for r in range(nproc)]


def _train(tmp_path, name, data_root, nproc, signal_at=()):
    """Train; with ``signal_at`` the run is signalled, then resumed with
    ``--resume``. Returns the work dir, the losses of each rank before and
    after the resume, and the first process's output."""
    work_dir = str(tmp_path / name)
    os.makedirs(work_dir)
    config = _config(
        osp.join(work_dir, 'cfg.py'), data_root, 8 // nproc, signal_at)
    first = _run(_command(config, work_dir, nproc, resume=False))
    if not signal_at:
        assert first.returncode == 0, first.stderr[-5000:]
        return work_dir, _rank_losses(work_dir, nproc), None, first
    before = _rank_losses(work_dir, nproc)
    for path in os.listdir(work_dir):
        if path.startswith('losses.jsonl'):
            os.rename(osp.join(work_dir, path), osp.join(work_dir, 'x' + path))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        first.last_checkpoint = f.read()
    resumed = _run(_command(config, work_dir, nproc, resume=True))
    assert resumed.returncode == 0, resumed.stderr[-5000:]
    first.resumed_output = resumed.stdout + resumed.stderr
    return work_dir, before, _rank_losses(work_dir, nproc), first


@pytest.fixture(scope='module')
def reference(shapes_root, tmp_path_factory):
    """The uninterrupted runs, of 1 and of 2 processes."""
    runs = {}
    for nproc in (1, 2):
        work_dir, losses, _, _ = _train(
            tmp_path_factory.mktemp(f'reference{nproc}'), 'run', shapes_root,
            nproc)
        runs[nproc] = losses, _final_checkpoint(work_dir)
    return runs


def _draw_iteration() -> tuple:
    """A seeded random iteration inside epoch 2 or 3 (not its last
    batch), replayable with MMSIM_PREEMPT_SEED."""
    seed = int(os.environ.get('MMSIM_PREEMPT_SEED', time.time_ns() % 10000))
    inside = [
        i for i in range(ITERS_PER_EPOCH + 1, EPOCHS * ITERS_PER_EPOCH)
        if i % ITERS_PER_EPOCH
    ]
    return seed, random.Random(seed).choice(inside)


CASES = [
    pytest.param(1, 'SIGTERM', 0, 'random', id='1proc-SIGTERM-mid-epoch'),
    pytest.param(
        1,
        'SIGUSR1',
        0,
        2 * ITERS_PER_EPOCH,
        id='1proc-SIGUSR1-'
        'last-batch-of-epoch-2'),
    pytest.param(
        2, 'SIGUSR1', 1, 'random', id='2proc-rank1-SIGUSR1-mid-epoch'),
]


@pytest.mark.timeout(900)
@pytest.mark.parametrize('nproc,name,rank,iteration', CASES)
def test_signalled_run_resumes_to_the_same_run(shapes_root, tmp_path,
                                               reference, nproc, name, rank,
                                               iteration):
    seed = None
    if iteration == 'random':
        seed, iteration = _draw_iteration()
    note = f'MMSIM_PREEMPT_SEED={seed}: {name} after iteration {iteration}'
    work_dir, before, after, first = _train(tmp_path, 'preempted', shapes_root,
                                            nproc, (iteration, name, rank))
    status = 128 + getattr(signal, name)
    output = first.stdout + first.stderr
    if nproc == 1:
        assert first.returncode == status, note + output[-5000:]
    else:  # torchrun reports each rank's status, and fails with 1
        assert first.returncode == 1, note + output[-5000:]
        statuses = re.findall(r'exitcode\s*:\s*(-?\d+)', output)
        assert len(statuses) >= nproc and set(statuses) == {str(status)}, \
            f'{note}: {statuses}'
    saved = osp.join(work_dir, f'iter_{iteration}.pth')
    assert first.last_checkpoint == saved, note
    assert f'{name} received: saved iteration {iteration}' in output, note
    assert f'exiting with status {status}' in output, note
    checkpoint = torch.load(saved)
    assert checkpoint['meta']['iter'] == iteration, note
    record = checkpoint['meta']['preemption']
    assert record['batches_done'] == (iteration - 1) % ITERS_PER_EPOCH + 1
    assert len(record['rng']) == nproc
    ref_losses, ref_ckpt = reference[nproc]
    for rank_before, rank_after, rank_ref in zip(before, after, ref_losses):
        # every rank stopped after the same iteration, and the resumed
        # run trained exactly the iterations after it
        assert sorted(rank_before) == list(range(1, iteration + 1)), note
        assert sorted(rank_after) == list(
            range(iteration + 1, EPOCHS * ITERS_PER_EPOCH + 1)), note
        for step, loss in {**rank_before, **rank_after}.items():
            assert loss == pytest.approx(rank_ref[step], rel=1e-6), \
                f'{note}: iteration {step}'
    if iteration % ITERS_PER_EPOCH:
        assert 'batches are drawn and skipped' in first.resumed_output
    _assert_same_run(ref_ckpt, _final_checkpoint(work_dir))
    assert not [n for n in os.listdir(work_dir) if n.endswith('.part')]
