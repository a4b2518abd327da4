# Copyright (c) mmsim contributors. All rights reserved.
"""The lock file of :mod:`.work_dir_lock`: its JSON, reading and writing it
whole, whether its owner lives, and refreshing its heartbeat."""
import json
import logging
import os
import time
from typing import Optional, Tuple

from mmengine.logging import print_log


def format_time(stamp: float) -> str:
    return time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(stamp))


def slurm_job() -> Optional[list]:
    """``[job id, restart count]`` of the Slurm job this runs in, if any."""
    job, restarts = (os.environ.get('SLURM_JOB_ID'),
                     os.environ.get('SLURM_RESTART_COUNT', '0'))
    return None if job is None else [job, int(restarts or 0)]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except (OSError, OverflowError):
        return False
    return True


def parse_lock(raw: bytes) -> Optional[dict]:
    """The lock's owner, or None for a file that is not a lock's JSON."""
    try:
        owner = json.loads(raw)
    except ValueError:
        return None
    ok = isinstance(owner, dict) and isinstance(
        owner.get('pid'), int) and owner['pid'] > 0 and isinstance(
            owner.get('hostname'), str) and isinstance(
                owner.get('heartbeat'), (int, float))
    if not ok:
        return None
    job = owner.get('slurm_job')
    if not (isinstance(job, list) and len(job) == 2
            and isinstance(job[1], int)):
        owner['slurm_job'] = None
    return owner


def read_lock(path: str) -> Tuple[Optional[bytes], Optional[dict], float]:
    """``(raw bytes, owner, mtime)``; raw None when there is no file. An
    unparsable file is read again twice: its creator may be writing it."""
    for attempt in range(3):
        try:
            with open(path, 'rb') as handle:
                raw = handle.read()
            mtime = os.stat(path).st_mtime
        except FileNotFoundError:
            return None, None, 0.
        owner = parse_lock(raw)
        if owner is not None or attempt == 2:
            return raw, owner, mtime
        time.sleep(0.05)
    return raw, None, mtime


def write_lock(path: str, owner: dict) -> None:
    """Write ``owner`` to ``path`` whole: a temporary file, then rename."""
    tmp = f'{path}.{owner["token"]}.tmp'
    with open(tmp, 'w') as handle:
        json.dump(owner, handle)
    os.replace(tmp, path)


class Holding:
    """This process's hold on one lock file, shared by re-entrant holders
    (runners built one after another in one process)."""

    def __init__(self, owner: dict) -> None:
        self.owner = owner
        self.pid = os.getpid()
        self.count = 1
        self.last_beat = time.time()
        self.lost = False  # removed or taken over: no more heartbeats


def refresh_heartbeat(path: str, holding: Holding) -> None:
    """Rewrite the lock with a new heartbeat if it is still ours; else
    warn once and stop. Called from the training loop (no thread: a Python
    thread alive while the DataLoader forks its workers can deadlock the
    child in CPython's after-fork clean-up, seen with gloo DDP here).
    Between the check and the rename a taker could win only if this run
    already looked stale (heartbeat older than the timeout)."""
    if holding.lost:
        return
    owner = read_lock(path)[1]
    if owner is None or owner.get('token') != holding.owner['token']:
        holding.lost = True
        print_log(
            f'The work dir lock {path} is no longer this run\'s (removed '
            'or taken over); stopped refreshing it.',
            logger='current',
            level=logging.WARNING)
        return
    holding.owner['heartbeat'] = holding.last_beat = time.time()
    try:
        write_lock(path, holding.owner)
    except OSError:  # a full or flaky disk: try again next beat
        pass


__all__ = [
    'format_time', 'slurm_job', 'pid_alive', 'parse_lock', 'read_lock',
    'write_lock', 'Holding', 'refresh_heartbeat'
]
