# Copyright (c) mmsim contributors. All rights reserved.
"""The environment of the tests' training subprocesses."""
import os
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def cpu_subprocess_env() -> dict:
    """This process's environment with the checkout importable, one
    thread per process and no GPU visible (so a CUDA machine runs the same
    CPU path CI does)."""
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([REPO,
                                    os.environ.get('PYTHONPATH', '')]),
        OMP_NUM_THREADS='1',
        CUDA_VISIBLE_DEVICES='')
