# Copyright (c) mmsim contributors. All rights reserved.
"""Pool workers started with :func:`die_with_parent` end when their
parent is killed, as :func:`run_finetunes`'s do."""
import signal
import subprocess
import sys
import time

import pytest

from mmsim.engine.runner.lock_file import pid_alive
from tests._subprocess_env import cpu_subprocess_env

PARENT = r'''
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from mmsim.transfer.worker_lifetime import die_with_parent

def nap(seconds):
    return os.getpid() if seconds == 0 else time.sleep(seconds)

if __name__ == '__main__':
    pool = ProcessPoolExecutor(
        2, mp_context=multiprocessing.get_context('spawn'),
        initializer=die_with_parent, initargs=(os.getpid(), ))
    pids = {pool.submit(nap, 0).result() for _ in range(8)}
    for _ in range(2):
        pool.submit(nap, 120)
    print(' '.join(map(str, sorted(pids))), flush=True)
    time.sleep(120)
'''


def _alive(pid: int) -> bool:
    """:func:`pid_alive`, a zombie (dead, not yet reaped by its new
    parent) counting as gone."""
    if not pid_alive(pid):
        return False
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(') ')[-1][0] != 'Z'
    except FileNotFoundError:
        return False


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='prctl is Linux only')
def test_workers_end_when_the_parent_is_killed(tmp_path):
    script = tmp_path / 'parent.py'
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)],
                              stdout=subprocess.PIPE,
                              text=True,
                              env=cpu_subprocess_env())
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert pids and all(_alive(p) for p in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
        deadline = time.time() + 30
        while any(_alive(p) for p in pids) and time.time() < deadline:
            time.sleep(0.2)
        assert not any(_alive(p) for p in pids), pids
    finally:
        parent.kill()
