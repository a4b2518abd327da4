# Copyright (c) mmsim contributors. All rights reserved.
"""Worker processes that end with the process that started them.

A ``ProcessPoolExecutor`` worker outlives a parent killed by a signal
(a cluster scheduler's SIGTERM, an OOM kill, ``kill``): it runs its
fine-tune to the end, holding cores and writing into a work dir nobody
reads. On Linux a worker can ask the kernel for a signal when its parent
dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere this is a no-op.
"""
import ctypes
import ctypes.util
import os
import signal
import sys

#: ``PR_SET_PDEATHSIG`` of <sys/prctl.h>.
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: SIGTERM this process when its parent dies; exit
    at once if ``parent_pid`` is already gone (it died before the request
    was made). Linux only; a no-op elsewhere or without a C library."""
    if not sys.platform.startswith('linux'):
        return
    libc_name = ctypes.util.find_library('c')
    if libc_name is None:
        return
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return
    if os.getppid() != parent_pid:
        os._exit(1)
