# Copyright (c) mmsim contributors. All rights reserved.
"""The environment of the tests' subprocesses, and a fresh interpreter
that runs a piece of code."""
import os
import os.path as osp
import subprocess
import sys

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


def run_fresh_python(code: str, cwd: str = REPO) -> str:
    """Run ``code`` in a fresh interpreter of this environment (one thread,
    without this process's ``PYTHONPATH``, so the package is imported as
    installed) and return the last line it printed.

    Args:
        code (str): Python source.
        cwd (str): Working folder. Defaults to the repository.

    Returns:
        str: The last line of its standard output.
    """
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    result = subprocess.run([sys.executable, '-c', code],
                            env=dict(env, OMP_NUM_THREADS='1'),
                            capture_output=True,
                            text=True,
                            timeout=300,
                            cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]
