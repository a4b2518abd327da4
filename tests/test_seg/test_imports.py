# Copyright (c) mmsim contributors. All rights reserved.
"""Only the segmentation side imports mmseg: the pre-training package, the
transfer package (converters and fine-tune driver) and the detection side
run without it."""
import ast
import glob
import os.path as osp

from tests._subprocess_env import run_fresh_python

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
    assert run_fresh_python(code) == '[]'
