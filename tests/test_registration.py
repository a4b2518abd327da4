# Copyright (c) mmsim contributors. All rights reserved.
"""What ``import mmsim`` registers, and when (``mmsim.registration``), each
case in a fresh process: the mmdet side, the layers and the transfer code
import neither mmselfsup nor mmcls; the pre-training components enter
mmselfsup's registries as soon as mmselfsup is imported, whichever comes
first and from whichever mmsim module."""
import importlib.util
import os.path as osp
import textwrap

import pytest

from tests._subprocess_env import run_fresh_python

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: Looks up every pre-training component and prints 'registered'.
LOOK_UP = '''
from mmengine.registry import HOOKS as ROOT_HOOKS, RUNNERS
from mmselfsup.registry import HOOKS, MODELS, TRANSFORMS
found = [MODELS.get('SIM'), MODELS.get('SIMTokenBN'),
         TRANSFORMS.get('SIMTwoViewCrop'), HOOKS.get('KNNMonitorHook'),
         HOOKS.get('TrainingChecksHook'),
         ROOT_HOOKS.get('AtomicCheckpointHook'), RUNNERS.get('SIMRunner')]
assert all(found), found
import sys
from mmsim.registration import HostImportHook
assert not any(isinstance(f, HostImportHook) for f in sys.meta_path)
print('registered')
'''


def run_fresh(*pieces: str, cwd: str = REPO) -> str:
    """Run the code ``pieces`` (each dedented) in a fresh interpreter;
    return its last line of output."""
    return run_fresh_python(
        '\n'.join(textwrap.dedent(piece) for piece in pieces), cwd)


HOST_FREE = ['mmsim.det', 'mmsim.layers', 'mmsim.geometry'] + [
    name for name in ('mmsim.transfer', 'mmsim.converters')
    if importlib.util.find_spec(name) is not None
]


@pytest.mark.parametrize('module', HOST_FREE)
def test_host_free_imports_load_no_mmselfsup_nor_mmcls(module):
    """Also registers mmsim's mmengine-level components (mmdet, mmseg and
    mmcls configs use the checkpoint hook)."""
    code = f'''
        import sys, {module}
        from mmengine.registry import HOOKS
        assert HOOKS.get('AtomicCheckpointHook') is not None
        print(sorted(m for m in sys.modules
                     if m.split('.')[0] in ('mmselfsup', 'mmcls')))
    '''
    assert run_fresh(code) == '[]'


def test_mmsim_first_registers_when_mmselfsup_is_imported():
    code = '''
        import sys, mmsim
        assert 'mmselfsup' not in sys.modules
    '''
    assert run_fresh(code, LOOK_UP) == 'registered'


def test_mmselfsup_first_registers_at_once():
    code = '''
        import mmselfsup.registry, mmsim
    '''
    assert run_fresh(code, LOOK_UP) == 'registered'


@pytest.mark.parametrize('first', [
    'import mmsim.datasets',
    'from mmsim.layers.token_batch_norm import SIMTokenBN',
    'from mmsim.engine.hooks import TrainingChecksHook',
])
def test_an_mmsim_module_that_imports_mmselfsup_first(first):
    """mmselfsup is first imported half-way through an mmsim module; the
    components come in once it has finished (a component importing the
    half-executed module would fail)."""
    assert run_fresh(first, LOOK_UP) == 'registered'


def test_custom_imports_then_a_runner_scope(tmp_path):
    """A config's ``custom_imports=['mmsim']``, then building in
    mmselfsup's scope from mmengine's root registry, as the Runner does."""
    (tmp_path / 'cfg.py').write_text(
        "custom_imports = dict(imports=['mmsim'], "
        'allow_failed_imports=False)\n')
    code = f'''
        import sys
        from mmengine.config import Config
        from mmengine.registry import HOOKS, MODELS, DefaultScope
        Config.fromfile({str(tmp_path / 'cfg.py')!r})
        assert 'mmselfsup' not in sys.modules
        DefaultScope.get_instance('test', scope_name='mmselfsup')
        sys.path.insert(0, {REPO!r})
        from tests._model_cfgs import TINY_SIM
        print(type(MODELS.build(TINY_SIM)).__name__,
              type(HOOKS.build(dict(type='TrainingChecksHook'))).__name__)
    '''
    assert run_fresh(code, cwd=str(tmp_path)) == 'SIM TrainingChecksHook'


def test_the_first_host_imported_wins(tmp_path):
    """The hook with two made-up hosts: importing one imports its
    components (after the host itself has run), never the other's."""
    for name, body in [
        ('host_a/__init__.py', 'LOADED = True\n'),
        ('host_b/__init__.py', 'LOADED = True\n'),
        ('comp_a.py', 'import host_a\nassert host_a.LOADED\n'),
        ('comp_b.py', 'raise AssertionError("comp_b imported")\n'),
    ]:
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(body)
    code = f'''
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from mmsim.registration import HostImportHook
        hook = HostImportHook(dict(host_a=['comp_a'], host_b=['comp_b']),
                              package='nothing')
        hook.install()
        import importlib.util
        assert importlib.util.find_spec('host_a') is not None
        assert 'comp_a' not in sys.modules  # found, not imported: waits
        import host_a
        assert 'comp_a' in sys.modules and hook not in sys.meta_path
        assert host_a.__loader__ is host_a.__spec__.loader
        assert type(host_a.__loader__).__name__ == 'SourceFileLoader'
        import host_b
        print('comp_b' in sys.modules)
    '''
    assert run_fresh(code) == 'False'
