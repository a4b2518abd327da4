# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.converters.conversion: one-line key reports; the package's
imports (pure PyTorch, so that the converters run without mmdet)."""
import ast
import glob
import os.path as osp
import sys

import pytest

from mmsim.converters import CheckpointConversionError
from mmsim.converters.conversion import check_keys, key_report, list_keys

PACKAGE = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'mmsim',
    'converters')


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


def _imported_modules(path):
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            yield node.module


def test_the_package_imports_only_the_standard_library_and_torch():
    """Nothing in mmsim/converters imports mmdet, mmcv or another
    toolbox: the conversion tools serve pre-training-only setups."""
    files = sorted(glob.glob(osp.join(PACKAGE, '*.py')))
    assert len(files) == 9  # sim_to_mmseg.py: mmseg's MAE backbone
    for path in files:
        for module in _imported_modules(path):
            top = module.split('.')[0]
            assert top == 'torch' or top in sys.stdlib_module_names, (
                f'{osp.basename(path)} imports {module}')
