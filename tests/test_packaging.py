# Copyright (c) mmsim contributors. All rights reserved.
"""The installed package: a wheel of this tree, installed into a fresh
virtual environment, imports and registers everything from there (not from
the repository); and the layout rules of ``mmsim/``."""
import ast
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import zipfile

from tests._host import HOST_NAME

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGE = osp.join(REPO, 'mmsim')
MAX_MODULE_LINES = 300


def _modules():
    return sorted(glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True))


def _rel(path):
    return osp.relpath(path, REPO)


def _registrations():
    """``(registry module, registry name, class name)`` of every
    ``@<REGISTRY>.register_module()`` class in ``mmsim/``, read from the
    source (independently of what importing registers)."""
    found = []
    for path in _modules():
        tree = ast.parse(open(path).read(), path)
        registries = {
            alias.asname or alias.name: node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (
                node.module or '').endswith('.registry')
            for alias in node.names
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for deco in node.decorator_list:
                func = deco.func if isinstance(deco, ast.Call) else deco
                if not (isinstance(func, ast.Attribute)
                        and func.attr == 'register_module'):
                    continue
                names = [
                    k.value.value
                    for k in getattr(deco, 'keywords', []) if k.arg == 'name'
                ] or [node.name]
                owner = func.value
                if isinstance(owner, ast.Name):
                    found.append((registries[owner.id], owner.id, names[0]))
                elif (isinstance(owner, ast.Attribute)
                      and isinstance(owner.value, ast.Call)
                      and getattr(owner.value.func, 'id', '') == 'host'):
                    # @host().MODELS...: the registry of this process's host
                    found.append(
                        (f'{HOST_NAME}.registry', owner.attr, names[0]))
    return found


CHECK_INSTALLED = '''
import importlib, inspect, json, sys
import mmsim, mmsim.converters, mmsim.det
out = dict(files={m: sys.modules[m].__file__
                  for m in ('mmsim', 'mmsim.converters', 'mmsim.det')},
           missing=[], sources=[])
for module, name, cls in json.loads(sys.argv[1]):
    registry = getattr(importlib.import_module(module), name)
    if cls in registry.module_dict:
        out['sources'].append(inspect.getfile(registry.module_dict[cls]))
    else:
        out['missing'].append(f'{cls} not in {module}.{name}')
print(json.dumps(out))
'''


def _run(cmd, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    result = subprocess.run(
        cmd,
        env=dict(env, OMP_NUM_THREADS='1', PIP_NO_INDEX='1'),
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs)
    assert result.returncode == 0, (cmd, result.stdout[-2000:],
                                    result.stderr[-3000:])
    return result.stdout


def test_a_wheel_installs_and_registers_everything(tmp_path):
    """About 30 s: build a wheel of the working tree (no build isolation,
    no index), install it with ``--no-deps`` into a fresh venv that sees
    the current environment's packages, import it from outside the
    repository, and find every registered class in the host registries
    (mmselfsup, mmdet, mmengine), defined by the installed files."""
    # build from a copy, so that build/ and mmsim.egg-info/ do not land in
    # the repository
    src = tmp_path / 'src'
    shutil.copytree(
        PACKAGE,
        src / 'mmsim',
        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    for name in ('setup.py', 'setup.cfg', 'README.md'):
        shutil.copy(osp.join(REPO, name), src / name)
    _run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--no-index', '-q', '-w',
        str(tmp_path / 'dist'),
        str(src)
    ],
         cwd=str(tmp_path))
    (wheel, ) = glob.glob(str(tmp_path / 'dist' / 'mmsim-*.whl'))
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    sources = {_rel(p) for p in _modules()}
    assert sources - in_wheel == set()  # every package and module

    # A venv of the base interpreter whose site-packages also lists this
    # environment's (a .pth line: plain paths, their own .pth files, e.g.
    # the editable install's link to the repository, are not read).
    # ``--system-site-packages`` would not do: when this environment is a
    # venv, it gives the base interpreter's packages, not this one's.
    venv = tmp_path / 'venv'
    _run([sys.executable, '-m', 'venv', '--without-pip', str(venv)])
    python = str(venv / 'bin' / 'python')
    site = _run([
        python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
        "['purelib'])"
    ]).strip()
    host = {sysconfig.get_paths()[k] for k in ('purelib', 'platlib')}
    with open(osp.join(site, '_host_environment.pth'), 'w') as f:
        f.writelines(f'{path}\n' for path in sorted(host))
    _run([python, '-m', 'pip', 'install', '--no-deps', '-q', wheel])

    expected = _registrations()
    assert len(expected) >= 15 and ('mmdet.registry', 'MODELS',
                                    'SIMViTDet') in expected
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    out = json.loads(
        _run([python, '-c', CHECK_INSTALLED,
              json.dumps(expected)],
             cwd=str(outside)).splitlines()[-1])
    venv_dir = osp.realpath(str(venv))
    for module, path in out['files'].items():
        assert osp.realpath(path).startswith(venv_dir + os.sep), (module, path)
    assert out['missing'] == []
    assert len(out['sources']) == len(expected)
    for path in out['sources']:
        assert osp.realpath(path).startswith(venv_dir + os.sep), path


def test_modules_stay_small():
    """Layout rule (issue 12): no module of the package above 300 lines."""
    long = {}
    for path in _modules():
        with open(path) as f:
            lines = sum(1 for _ in f)
        if lines > MAX_MODULE_LINES:
            long[_rel(path)] = lines
    assert long == {}, f'split these modules (> {MAX_MODULE_LINES} lines)'


def test_only_mmsim_det_imports_mmdet():
    """The pre-training package (everything but ``mmsim/det``) never
    imports mmdet, so that it installs and runs without it."""
    offenders = []
    for path in _modules():
        if _rel(path).startswith(osp.join('mmsim', 'det') + os.sep):
            continue
        for node in ast.walk(ast.parse(open(path).read(), path)):
            names = [a.name for a in node.names] if isinstance(
                node, ast.Import) else [node.module or ''] if isinstance(
                    node, ast.ImportFrom) and not node.level else []
            offenders += [(_rel(path), n) for n in names
                          if n.split('.')[0] == 'mmdet']
    assert offenders == []
