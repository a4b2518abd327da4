# Copyright (c) mmsim contributors. All rights reserved.
"""One run per work dir (:mod:`mmsim.engine.runner.work_dir_lock`): the
lock's rules, and two real ``tools/train.py`` runs into one work dir."""
import json
import logging
import multiprocessing
import os
import os.path as osp
import socket
import subprocess
import sys
import time

import pytest
import torch
from mmengine.hooks import Hook

from mmsim.engine import WorkDirLock, WorkDirLockedError
from mmsim.engine.runner import lock_file
from mmsim.engine.runner import work_dir_lock as lock_module
from mmsim.engine.runner.lock_file import format_time
from tests._host import HOOKS, QUICKSTART_CONFIG
from tests._subprocess_env import cpu_subprocess_env

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
HOST = socket.gethostname()
OTHER = 'python tools/train.py configs/other.py --work-dir here'


@HOOKS.register_module()
class HoldUntilFileHook(Hook):
    """Keeps the first of the two end-to-end runs (holding the lock)
    before its first epoch until the test creates ``path``; creates
    ``path + '.waiting'`` when it starts waiting.

    Args:
        path (str): The file to wait for.
        timeout (float): Seconds to wait at most. Defaults to 120.
    """

    def __init__(self, path: str, timeout: float = 120.) -> None:
        self.path = path
        self.timeout = timeout

    def before_train(self, runner) -> None:
        open(self.path + '.waiting', 'w').close()
        deadline = time.time() + self.timeout
        while not osp.exists(self.path) and time.time() < deadline:
            time.sleep(0.1)


@pytest.fixture
def logged(monkeypatch):
    """The messages the lock logs, with their levels."""
    messages = []
    for module in (lock_module, lock_file):  # the heartbeat logs in the latter
        monkeypatch.setattr(
            module,
            'print_log',
            lambda msg, logger=None, level=None: messages.append((level, msg)))
    return messages


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen(['true'])
    process.wait()
    return process.pid


def _write_lock(work_dir, pid, hostname=HOST, heartbeat=None, **extra):
    """Write the lock of another run, started 100 s ago; its path."""
    now = time.time()
    path = osp.join(str(work_dir), lock_module.LOCK_FILENAME)
    with open(path, 'w') as handle:
        json.dump(
            dict(
                pid=pid,
                hostname=hostname,
                start_time=now - 100,
                command=OTHER,
                heartbeat=now if heartbeat is None else heartbeat,
                token='theirs',
                **extra), handle)
    return path


def _owner(work_dir) -> dict:
    with open(osp.join(str(work_dir), lock_module.LOCK_FILENAME)) as handle:
        return json.load(handle)


def test_acquire_and_release(tmp_path):
    """The lock file holds this run's pid, host, start, command and
    heartbeat while held, and is gone after release (twice is fine)."""
    lock = WorkDirLock(str(tmp_path)).acquire()
    try:
        assert lock.held
        owner = _owner(tmp_path)
        assert owner['pid'] == os.getpid() and owner['hostname'] == HOST
        assert owner['start_time'] <= owner['heartbeat'] <= time.time()
        assert 'pytest' in owner['command']
    finally:
        lock.release()
    assert not lock.held and not osp.exists(lock.path)
    lock.release()
    WorkDirLock(str(tmp_path)).acquire().release()  # free again
    assert os.listdir(tmp_path) == []  # no temporary or claim file left


def test_same_process_is_reentrant(tmp_path, logged):
    """Runners built one after another in one process share the lock: the
    file goes with the last release; a lock file of this pid is adopted
    without a word."""
    first = WorkDirLock(str(tmp_path)).acquire()
    second = WorkDirLock(str(tmp_path)).acquire()
    first.release()
    assert osp.exists(second.path)
    second.release()
    assert not osp.exists(second.path)
    _write_lock(tmp_path, os.getpid())
    third = WorkDirLock(str(tmp_path)).acquire()
    assert _owner(tmp_path)['token'] != 'theirs'
    third.release()
    assert logged == []


def test_live_run_on_this_host_stops_the_new_one(tmp_path):
    """A lock whose pid runs here: WorkDirLockedError names the work dir,
    the pid, host, command and what to do; the lock is untouched."""
    other = subprocess.Popen(['sleep', '30'])
    try:
        path = _write_lock(tmp_path, other.pid)
        with pytest.raises(WorkDirLockedError) as error:
            WorkDirLock(str(tmp_path)).acquire()
    finally:
        other.kill()
        other.wait()
    message = str(error.value)
    for part in (str(tmp_path), f'pid {other.pid}', f'host {HOST}', OTHER,
                 path, 'another --work-dir', 'work_dir_lock = False'):
        assert part in message, part
    assert _owner(tmp_path)['token'] == 'theirs'


def test_dead_run_on_this_host_is_taken_over(tmp_path, logged):
    """A lock whose pid is gone: taken over, with a warning naming the
    dead run's pid, host, start time and command."""
    dead = _dead_pid()
    _write_lock(tmp_path, dead)
    start = format_time(_owner(tmp_path)['start_time'])
    lock = WorkDirLock(str(tmp_path)).acquire()
    try:
        assert _owner(tmp_path)['pid'] == os.getpid()
    finally:
        lock.release()
    assert len(logged) == 1 and logged[0][0] == logging.WARNING
    for part in (f'pid {dead}', f'host {HOST}', 'the process is gone', start,
                 OTHER):
        assert part in logged[0][1], part


@pytest.mark.parametrize('age, live', [(10, True), (400, False)])
def test_run_on_another_host_lives_by_its_heartbeat(tmp_path, logged, age,
                                                    live):
    """A lock taken on another host is live while its heartbeat is younger
    than the timeout (300 s), stale after."""
    _write_lock(tmp_path, 1, 'other-node', heartbeat=time.time() - age)
    lock = WorkDirLock(str(tmp_path), timeout=300)
    if live:
        with pytest.raises(WorkDirLockedError, match='host other-node'):
            lock.acquire()
        assert _owner(tmp_path)['token'] == 'theirs' and not logged
        return
    lock.acquire()
    lock.release()
    assert len(logged) == 1
    assert 'pid 1 on host other-node' in logged[0][1]
    assert 'no heartbeat for 400 s (timeout 300 s)' in logged[0][1]


@pytest.mark.parametrize('restart, live', [('0', True), ('1', False)])
def test_requeued_slurm_job_takes_over_from_its_earlier_start(
        tmp_path, logged, monkeypatch, restart, live):
    """A fresh lock of another host written by start 0 of Slurm job 77:
    live for another run of that start, stale for the job's requeued
    restart 1 (Slurm ended start 0 before requeueing)."""
    _write_lock(tmp_path, 1, 'other-node', slurm_job=['77', 0])
    monkeypatch.setenv('SLURM_JOB_ID', '77')
    monkeypatch.setenv('SLURM_RESTART_COUNT', restart)
    lock = WorkDirLock(str(tmp_path))
    if live:
        with pytest.raises(WorkDirLockedError, match='host other-node'):
            lock.acquire()
        return
    lock.acquire()
    assert _owner(tmp_path)['slurm_job'] == ['77', 1]
    lock.release()
    assert len(logged) == 1
    assert 'Slurm requeued job 77: this is restart 1' in logged[0][1]


def test_unreadable_lock_is_stale_after_the_timeout(tmp_path, logged):
    """A lock file that is not the lock's JSON: live (named in the error)
    while younger than the timeout by its mtime, taken over with a warning
    naming it after."""
    path = osp.join(str(tmp_path), lock_module.LOCK_FILENAME)
    with open(path, 'w') as handle:
        handle.write('{"pid": ')
    with pytest.raises(WorkDirLockedError) as error:
        WorkDirLock(str(tmp_path), timeout=300).acquire()
    assert path in str(error.value) and 'unreadable' in str(error.value)
    old = time.time() - 400
    os.utime(path, (old, old))
    lock = WorkDirLock(str(tmp_path), timeout=300).acquire()
    lock.release()
    assert len(logged) == 1 and path in logged[0][1]
    assert 'unreadable' in logged[0][1]


def test_heartbeat_is_refreshed(tmp_path):
    """``beat()`` (SIMRunner calls it between iterations) rewrites the
    heartbeat once the interval has passed, and not before."""
    lock = WorkDirLock(
        str(tmp_path), timeout=5, heartbeat_interval=0.2).acquire()
    try:
        first = _owner(tmp_path)['heartbeat']
        lock.beat()
        assert _owner(tmp_path)['heartbeat'] == first
        time.sleep(0.25)
        lock.beat()
        assert _owner(tmp_path)['heartbeat'] > first
    finally:
        lock.release()


def test_release_leaves_another_runs_lock(tmp_path, logged):
    """A lock that another run took over meanwhile: the heartbeat stops
    (with a warning) without writing it, and release leaves it."""
    lock = WorkDirLock(
        str(tmp_path), timeout=5, heartbeat_interval=0.1).acquire()
    _write_lock(tmp_path, 1, 'other-node')
    time.sleep(0.15)
    lock.beat()
    lock.beat()  # warned once
    lock.release()
    assert _owner(tmp_path)['token'] == 'theirs'
    assert len(logged) == 1 and 'no longer this run' in logged[0][1]


def _race(work_dir, barrier, results, done) -> None:
    barrier.wait()
    try:
        lock = WorkDirLock(work_dir).acquire()
    except WorkDirLockedError:
        results.put('locked')
        return
    results.put('won')
    done.wait(30)
    lock.release()


def test_one_of_several_takers_wins_a_stale_lock(tmp_path, logged):
    """Four processes take over one dead run's lock at once: one wins, the
    others see its live lock."""
    _write_lock(tmp_path, _dead_pid())
    context = multiprocessing.get_context('fork')
    barrier, results, done = (context.Barrier(4), context.Queue(),
                              context.Event())
    takers = [
        context.Process(
            target=_race, args=(str(tmp_path), barrier, results, done))
        for _ in range(4)
    ]
    for taker in takers:
        taker.start()
    outcomes = sorted(results.get(timeout=30) for _ in takers)
    done.set()
    for taker in takers:
        taker.join(30)
    assert outcomes == ['locked', 'locked', 'locked', 'won']
    assert os.listdir(tmp_path) == []  # released; no claim file left


def test_config_and_ranks(tmp_path, monkeypatch):
    """``work_dir_lock=False`` turns it off; a dict sets it; an interval
    not below the timeout is refused; other ranks than 0 do nothing."""
    assert lock_module.lock_work_dir(str(tmp_path), False) is None
    lock = lock_module.lock_work_dir(str(tmp_path), dict(timeout=120))
    assert lock.held and lock.timeout == 120
    lock.release()
    with pytest.raises(ValueError, match='heartbeat_interval'):
        WorkDirLock(str(tmp_path), timeout=10, heartbeat_interval=10)
    monkeypatch.setattr(lock_module, 'is_main_process', lambda: False)
    lock = WorkDirLock(str(tmp_path)).acquire()
    assert not lock.held and os.listdir(tmp_path) == []


def _tiny_config(tmp_path, data_root: str, epochs: int, hold: str = None):
    """The quick-start config with a 2-layer encoder, 4 iterations per
    epoch, a checkpoint every epoch, no kNN monitor; with ``hold``, the
    run waits for that file before training."""
    hooks = [] if hold is None else [dict(type='HoldUntilFileHook', path=hold)]
    path = str(tmp_path / 'tiny.py')
    with open(path, 'w') as handle:
        handle.write(f"""
_base_ = {QUICKSTART_CONFIG!r}
custom_imports = dict(
    imports=['mmsim', 'tests.test_engine.test_runner.test_work_dir_lock'],
    allow_failed_imports=False)
model = dict(backbone=dict(arch=dict(num_layers=2)))
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    dataset=dict(data_root={data_root!r},
                 classes={data_root + 'meta/classes.txt'!r}))
train_cfg = dict(max_epochs={epochs})
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
custom_hooks = {hooks!r}
""")
    return path


def _train(config: str, work_dir: str) -> list:
    return [sys.executable, TRAIN, config, '--work-dir', work_dir]


@pytest.mark.timeout(300)
def test_second_run_into_a_busy_work_dir_stops(shapes_root, tmp_path):
    """A run holds the work dir (waiting before its first epoch); a second
    ``tools/train.py`` into it exits non-zero while the first still runs,
    naming the first's pid and host, and writes nothing there; the first
    then trains to the end, its checkpoints intact, and lets go."""
    work, go = str(tmp_path / 'work'), str(tmp_path / 'go')
    config = _tiny_config(tmp_path, shapes_root, epochs=2, hold=go)
    env = cpu_subprocess_env()
    with open(tmp_path / 'first.log', 'w') as log:
        first = subprocess.Popen(
            _train(config, work),
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT)
    try:
        lock_file = osp.join(work, lock_module.LOCK_FILENAME)
        deadline = time.time() + 120
        while not osp.exists(go + '.waiting') and first.poll() is None and \
                time.time() < deadline:
            time.sleep(0.2)
        assert osp.exists(go + '.waiting'), (tmp_path /
                                             'first.log').read_text()
        assert _owner(work)['pid'] == first.pid
        before = sorted(os.listdir(work))
        second = subprocess.run(
            _train(config, work),
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120)
        assert first.poll() is None  # stopped without waiting for it
        assert second.returncode != 0
        message = second.stderr.strip().splitlines()[-1]
        assert message.startswith('mmsim.engine.runner.work_dir_lock.'
                                  'WorkDirLockedError: Another run')
        for part in (f'pid {first.pid}', f'host {HOST}', config, work):
            assert part in message, part
        # the second run wrote nothing: no log folder, no config copy
        assert sorted(os.listdir(work)) == before
        open(go, 'w').close()
        first.wait(timeout=200)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    output = (tmp_path / 'first.log').read_text()
    assert first.returncode == 0, output[-3000:]
    assert 'WorkDirLock' not in output
    with open(osp.join(work, 'last_checkpoint')) as handle:
        assert handle.read().strip().endswith('epoch_2.pth')
    for epoch in (1, 2):
        checkpoint = torch.load(
            osp.join(work, f'epoch_{epoch}.pth'), map_location='cpu')
        assert checkpoint['meta']['epoch'] == epoch
    assert not osp.exists(lock_file)


@pytest.mark.timeout(300)
def test_a_dead_runs_lock_is_taken_over_by_the_next_run(shapes_root, tmp_path):
    """A lock left by a run that died: the next ``tools/train.py`` warns,
    naming the dead run's pid and host, trains and lets go."""
    work = tmp_path / 'work'
    work.mkdir()
    dead = _dead_pid()
    _write_lock(work, dead)
    done = subprocess.run(
        _train(_tiny_config(tmp_path, shapes_root, epochs=1), str(work)),
        cwd=REPO,
        env=cpu_subprocess_env(),
        capture_output=True,
        text=True,
        timeout=200)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    warning = [line for line in output.splitlines() if 'Taking over' in line]
    assert len(warning) == 1 and 'WARNING' in warning[0]
    assert f'pid {dead} on host {HOST}' in warning[0] and OTHER in warning[0]
    assert osp.exists(work / 'epoch_1.pth')
    assert not osp.exists(work / lock_module.LOCK_FILENAME)
