# Copyright (c) mmsim contributors. All rights reserved.
"""What CI runs: ``.ci/run`` calls ``tools/test.sh``, which deselects the
tests marked ``slow`` (a minute or more on 2 CPU cores; run them with
``tools/test.sh -m slow``). The known long tests carry the mark."""
import os.path as osp

from tests.test_engine.test_hooks import test_knn_monitor_quickstart

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# (module, test) of minutes-long runs: the quick start's full schedule
LONG_TESTS = [
    (test_knn_monitor_quickstart,
     'test_quickstart_knn_rises_above_what_random_init_reaches'),
]


def _read(*parts):
    with open(osp.join(REPO, *parts)) as f:
        return f.read()


def test_ci_runs_the_suite_without_the_slow_tests():
    assert 'MMSIM_STACK=all bash tools/test.sh' in _read('.ci', 'run')
    assert 'MMSIM_STACK=all bash tools/test.sh' in _read('README.md')
    assert '-m "not slow"' in _read('tools', 'test.sh')
    assert 'slow:' in _read('setup.cfg')  # the marker is registered


def test_long_tests_are_marked_slow():
    for module, name in LONG_TESTS:
        marks = getattr(getattr(module, name), 'pytestmark', [])
        assert 'slow' in [m.name for m in marks], name
