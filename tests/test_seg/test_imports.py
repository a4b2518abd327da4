# Copyright (c) mmsim contributors. All rights reserved.
"""Only the segmentation side imports mmseg: the pre-training package, the
transfer package (converters and fine-tune driver) and the detection side
run without it."""
import ast
import glob
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _imported_modules(path):
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            yield node.module or ''


def test_no_module_of_the_package_imports_mmseg():
    paths = glob.glob(osp.join(REPO, 'mmsim', '**', '*.py'), recursive=True)
    offenders = [(osp.relpath(p, REPO), m) for p in paths
                 for m in _imported_modules(p) if m.split('.')[0] == 'mmseg']
    assert offenders == []


def test_importing_mmsim_loads_no_mmseg():
    """In a fresh process: ``import mmsim`` (what pre-training configs
    import), the transfer package, its former name ``mmsim.converters``
    and ``mmsim.det`` leave mmseg unimported."""
    code = ('import sys, mmsim, mmsim.transfer, mmsim.converters, mmsim.det; '
            "print(sorted(m for m in sys.modules if m.split('.')[0] == "
            "'mmseg'))")
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    result = subprocess.run([sys.executable, '-c', code],
                            env=dict(env, OMP_NUM_THREADS='1'),
                            capture_output=True,
                            text=True,
                            timeout=300,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == '[]'
