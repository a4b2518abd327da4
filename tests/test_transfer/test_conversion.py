# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.conversion: one-line key reports; the package's imports
(the key mapping pure PyTorch, so that the converters run without mmdet;
no toolbox imported by ``import mmsim.transfer``)."""
import ast
import glob
import os.path as osp
import sys

import pytest

from mmsim.transfer import CheckpointConversionError
from mmsim.transfer.conversion import check_keys, key_report, list_keys
from tests._subprocess_env import run_fresh_python

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = osp.join(REPO, 'mmsim', 'transfer')
#: The key mapping and the checkpoint files: all a converter CLI runs on.
KEY_MAPPING = ('conversion.py', 'release_layout.py', 'encoder.py',
               'checkpoint_io.py', 'phases.py')
#: Toolboxes reached only inside functions (a config check, the runner).
TOOLBOXES = ('mmdet', 'mmseg', 'mmselfsup', 'mmcls')


def test_list_keys_names_up_to_the_limit_then_counts_groups():
    keys = [f'k{i}' for i in range(5)]
    assert list_keys(keys) == 'k0, k1, k2, k3, k4'
    keys += ['neck.a', 'neck.b', 'head']
    assert list_keys(keys) == ('k0, k1, k2, k3, k4, ... and 3 more: '
                               'neck.* (2), head (1)')
    assert list_keys(
        keys, limit=7) == ('k0, k1, k2, k3, k4, neck.a, '
                           'neck.b, ... and 1 more: head (1)')


def test_key_report_and_check_keys_are_one_line():
    assert key_report([], []) == ''
    assert key_report(['b', 'a'], []) == 'missing keys (2): a, b'
    assert key_report([], ['x']) == 'unexpected keys (1): x'
    check_keys([], [], 'anything')  # nothing wrong: no error
    with pytest.raises(CheckpointConversionError) as error:
        check_keys(['m'], [f'u{i:02d}' for i in range(40)], 'a thing')
    assert str(error.value) == (
        'the checkpoint is not a thing: missing keys (1): m; unexpected keys '
        '(40): u00, u01, u02, u03, u04, ... and 35 more: u05 (1), u06 (1), '
        'u07 (1), u08 (1), u09 (1), ...; nothing was written')


def _imported_modules(nodes):
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            yield node.module


def _tree(name):
    path = osp.join(PACKAGE, name)
    return ast.parse(open(path).read(), path)


def test_the_key_mapping_imports_only_the_standard_library_and_torch():
    """Nothing of the key mapping imports mmdet, mmcv or another toolbox,
    not even inside a function: the conversion tools serve
    pre-training-only setups."""
    for name in KEY_MAPPING:
        for module in _imported_modules(ast.walk(_tree(name))):
            top = module.split('.')[0]
            assert top == 'torch' or top in sys.stdlib_module_names, (
                f'{name} imports {module}')


def test_modules_import_only_the_standard_library_and_torch_at_the_top():
    """At import time every module takes the standard library, torch and
    its siblings; the driver also mmengine. Toolboxes come inside the
    functions that use them."""
    files = sorted(map(osp.basename, glob.glob(osp.join(PACKAGE, '*.py'))))
    assert len(files) == 15, files
    for name in files:
        allowed = {'torch', 'mmengine'} if name == 'finetune.py' else \
            {'torch'}
        for module in _imported_modules(_tree(name).body):
            top = module.split('.')[0]
            assert top in allowed or top in sys.stdlib_module_names, (
                f'{name} imports {module} at its top')


def test_importing_the_package_loads_no_toolbox():
    """In a fresh process, ``mmsim.transfer`` imported (its parent package
    a bare namespace, so that only its own imports count) leaves mmdet,
    mmseg, mmselfsup and mmcls unimported."""
    code = ('import sys, types; package = types.ModuleType("mmsim"); '
            f'package.__path__ = [{osp.join(REPO, "mmsim")!r}]; '
            'sys.modules["mmsim"] = package; import mmsim.transfer; '
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            f'set({TOOLBOXES!r})))')
    assert run_fresh_python(code) == '[]'
