# Copyright (c) mmsim contributors. All rights reserved.
"""One training run per work dir: a lock file with a heartbeat.

Two runs started into one work dir (a requeued job that overlaps the one
still running, a typo) would overwrite each other's checkpoints and
``last_checkpoint``. :class:`WorkDirLock` keeps ``<work_dir>/.mmsim_run.lock``
while a run trains and stops a second run at its start.
"""
import atexit
import hashlib
import json
import logging
import os
import os.path as osp
import shlex
import socket
import sys
import threading
import time
import uuid
from typing import Dict, Optional, Union

from mmengine.dist import (broadcast_object_list, get_world_size,
                           is_main_process)
from mmengine.logging import print_log

from .lock_file import (Holding, format_time, pid_alive, read_lock,
                        refresh_heartbeat, slurm_job, write_lock)

LOCK_FILENAME = '.mmsim_run.lock'


class WorkDirLockedError(RuntimeError):
    """Another live run holds the work dir's lock."""


class WorkDirLock:
    """The lock ``<work_dir>/.mmsim_run.lock`` of one training run.

    The file holds JSON: ``pid``, ``hostname``, ``start_time``,
    ``command``, ``heartbeat`` (refreshed at most every
    ``heartbeat_interval`` seconds by :meth:`beat`, which SIMRunner calls
    between iterations; a long evaluation of more than ``timeout`` makes
    the run look stale to another host), ``slurm_job`` (``[SLURM_JOB_ID,
    SLURM_RESTART_COUNT]`` or null) and a ``token`` naming this hold. A
    lock is live if its pid exists on this host, or, taken on another
    host, if its heartbeat is younger than ``timeout``; a live lock of
    another process stops :meth:`acquire` with
    :class:`WorkDirLockedError`. A stale one is taken over with a
    warning, and so are an unreadable one whose file is older than
    ``timeout`` and one of an earlier start of this requeued Slurm job
    (Slurm has ended it). A lock of this process is re-entrant. Only the
    main process (rank 0) takes the lock.

    Args:
        work_dir (str): The run's work dir (it must exist).
        timeout (float): Seconds without a heartbeat after which a lock of
            another host is stale. Defaults to 300.
        heartbeat_interval (float): Seconds between heartbeats, below
            ``timeout``. Defaults to 60.

    Examples:
        >>> lock = WorkDirLock('work_dirs/sim').acquire()
        >>> try:
        ...     train()
        ... finally:
        ...     lock.release()
    """

    _holdings: Dict[str, Holding] = {}
    _guard = threading.Lock()

    def __init__(self,
                 work_dir: str,
                 timeout: float = 300.,
                 heartbeat_interval: float = 60.) -> None:
        if not 0 < heartbeat_interval < timeout:
            raise ValueError(
                f'work_dir_lock needs 0 < heartbeat_interval < timeout, got '
                f'heartbeat_interval={heartbeat_interval}, timeout={timeout}')
        self.work_dir = osp.abspath(work_dir)
        self.path = osp.join(self.work_dir, LOCK_FILENAME)
        self.timeout = timeout
        self.heartbeat_interval = heartbeat_interval
        self._holding: Optional[Holding] = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._holding is not None

    def acquire(self) -> 'WorkDirLock':
        """Take the lock (on the main process; other ranks do nothing).

        Returns:
            WorkDirLock: Itself.

        Raises:
            WorkDirLockedError: Another live run holds the lock.
        """
        if self.held or not is_main_process():
            return self
        key = osp.realpath(self.path)
        with self._guard:
            holding = self._holdings.get(key)
            if holding is not None and holding.pid == os.getpid() and \
                    (read_lock(self.path)[1] or {}).get('token') == \
                    holding.owner['token']:
                holding.count += 1
            else:
                holding = Holding(self._take())
                self._holdings[key] = holding
        self._holding = holding
        atexit.register(self.release)
        return self

    def beat(self) -> None:
        """Refresh the heartbeat once ``heartbeat_interval`` has passed
        (SIMRunner calls it after every training iteration and epoch)."""
        holding = self._holding
        if holding is not None and \
                time.time() - holding.last_beat >= self.heartbeat_interval:
            refresh_heartbeat(self.path, holding)

    def release(self) -> None:
        """Let go; the last holder of this process stops the heartbeat and
        removes the file if it is still ours (not taken over)."""
        holding, self._holding = self._holding, None
        if holding is None:
            return
        atexit.unregister(self.release)
        with self._guard:
            holding.count -= 1
            if holding.count > 0:
                return
            key = osp.realpath(self.path)
            if self._holdings.get(key) is holding:
                del self._holdings[key]
        owner = read_lock(self.path)[1]
        if owner is not None and owner.get('token') == holding.owner['token']:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def _take(self) -> dict:
        """Create, adopt or take over the lock file; the new owner."""
        now = time.time()
        owner = dict(
            pid=os.getpid(),
            hostname=socket.gethostname(),
            start_time=now,
            command=shlex.join(getattr(sys, 'orig_argv', sys.argv)),
            heartbeat=now,
            slurm_job=slurm_job(),
            token=uuid.uuid4().hex)
        for _ in range(100):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                             0o644)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, 'w') as handle:
                    json.dump(owner, handle)
                return owner
            raw, old, mtime = read_lock(self.path)
            if raw is None:  # released meanwhile: create it again
                continue
            if old is not None and old['pid'] == owner['pid'] and \
                    old['hostname'] == owner['hostname']:
                write_lock(self.path, owner)  # this process's: re-entrant
                return owner
            why = self._stale_reason(old, mtime)
            if why is None:
                raise WorkDirLockedError(self._locked_message(old, mtime))
            if self._take_over(raw, owner):
                print_log(
                    self._takeover_message(old, why),
                    logger='current',
                    level=logging.WARNING)
                return owner
            time.sleep(0.05)  # another taker is at it: look again
        raise WorkDirLockedError(
            f'Could not take the lock {self.path}: it kept changing.')

    def _take_over(self, raw: bytes, owner: dict) -> bool:
        """Replace the stale lock whose bytes are ``raw``; False if someone
        else changed it first.

        A check of the file followed by ``os.replace`` is not enough: two
        takers can both see the stale bytes, then both rename, and both
        believe they won. So a taker first creates, with ``O_EXCL``, a
        claim file named after the stale bytes: for one stale lock only
        one claim can exist. Holding it, the taker re-reads the lock; if
        the bytes are still the stale ones, no one else can change them
        (other takers need this claim; a new run's ``O_EXCL`` fails while
        the file exists), so the rename is safe. A taker that comes late
        finds the claim (or, once it is removed, new bytes) and looks
        again; it then sees the winner's live lock. A claim left by a
        taker that died in these few lines is removed after ``timeout``.
        """
        claim = f'{self.path}.{hashlib.sha1(raw).hexdigest()[:16]}.claim'
        try:
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            try:
                if time.time() - os.stat(claim).st_mtime > self.timeout:
                    os.remove(claim)
            except FileNotFoundError:
                pass
            return False
        try:
            if read_lock(self.path)[0] != raw:
                return False
            write_lock(self.path, owner)
            return True
        finally:
            os.remove(claim)

    def _stale_reason(self, old: Optional[dict],
                      mtime: float) -> Optional[str]:
        """Why the lock is stale, or None if it is live."""
        now = time.time()
        if old is None:
            age = now - mtime
            return None if age < self.timeout else (
                f'unreadable, last written {age:.0f} s ago (timeout '
                f'{self.timeout:g} s)')
        ours, theirs = slurm_job(), old.get('slurm_job')
        if ours and theirs and theirs[0] == ours[0] and \
                theirs[1] < ours[1]:  # Slurm ends a job before requeueing
            return f'Slurm requeued job {ours[0]}: this is restart {ours[1]}'
        # (on Windows os.kill(pid, 0) would send CTRL_C: heartbeat only)
        if old['hostname'] == socket.gethostname() and os.name != 'nt':
            return None if pid_alive(old['pid']) else 'the process is gone'
        age = now - old['heartbeat']
        return None if age < self.timeout else (
            f'no heartbeat for {age:.0f} s (timeout {self.timeout:g} s)')

    def _describe(self, old: dict) -> str:
        return (f'pid {old["pid"]} on host {old["hostname"]}, started '
                f'{format_time(old.get("start_time", old["heartbeat"]))}, '
                f'command: {old.get("command", "?")}')

    def _locked_message(self, old: Optional[dict], mtime: float) -> str:
        if old is None:
            holder = (f'its lock file {self.path} is unreadable and was '
                      f'written {time.time() - mtime:.0f} s ago (another '
                      'run may be starting)')
        else:
            holder = (f'{self._describe(old)} (last heartbeat '
                      f'{time.time() - old["heartbeat"]:.0f} s ago; lock '
                      f'file {self.path})')
        return (f'Another run is training into the work dir {self.work_dir}: '
                f'{holder}. Two runs in one work dir overwrite each other\'s '
                'checkpoints and logs. Wait for that run to end, stop it, or '
                'choose another --work-dir. If no run uses this work dir any '
                'more, delete the lock file; work_dir_lock = False in the '
                'config turns the lock off.')

    def _takeover_message(self, old: Optional[dict], why: str) -> str:
        if old is None:
            return f'Taking over the work dir lock {self.path}: {why}.'
        return (f'Taking over the work dir lock {self.path} of a run that '
                f'is no longer alive ({why}): {self._describe(old)}.')


def lock_work_dir(
        work_dir: str,
        cfg: Union[None, bool, dict] = None) -> Optional[WorkDirLock]:
    """Take ``work_dir``'s lock on rank 0 as ``cfg`` says; with several
    processes every rank raises if rank 0 could not take it (so none
    waits for the others in a collective).

    Args:
        work_dir (str): The run's work dir.
        cfg (dict | bool, optional): :class:`WorkDirLock` arguments
            (``timeout``, ``heartbeat_interval``); False turns the lock
            off; None or True: the defaults.

    Returns:
        WorkDirLock, optional: The lock (held on rank 0), None if off.
    """
    if cfg is False:
        return None
    lock = WorkDirLock(work_dir, **(cfg if isinstance(cfg, dict) else {}))
    error: Optional[Exception] = None
    try:
        lock.acquire()
    except Exception as exc:  # passed on to the other ranks
        error = exc
    if get_world_size() > 1:
        message = [None if error is None else f'{error}']
        broadcast_object_list(message)
        if error is None and message[0] is not None:
            raise WorkDirLockedError(message[0])
    if error is not None:
        raise error
    return lock
