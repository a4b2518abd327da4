# Copyright (c) mmsim contributors. All rights reserved.
import os
import random

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

import mmsim  # noqa: F401  (registers the components)
from tests._host import HOST_NAME
from tests._shapes_data import shapes_folder

#: The tests that run under mmpretrain as well (``bash tools/test.sh`` runs
#: the whole suite under mmselfsup, then these under mmpretrain, each host
#: in its own environment; the current stack runs these only): the model,
#: its layers, the block mask, the engine (hooks, runner, optimiser
#: constructor, checkpoint loading), training through tools/train.py and
#: ``mim train`` (resume after a kill, preemption, 2 gloo processes = 1),
#: the cross-host tests and the GPU check's reduced run. The rest
#: (transfer, evaluation tools, replay, docs) builds mmselfsup's or mmcls's
#: configs and APIs by name.
BOTH_HOSTS = ('test_models', 'test_layers', 'test_hosts', 'test_engine',
              'test_datasets/test_transforms/test_block_mask.py',
              'test_tools/test_train.py', 'test_tools/test_kill_and_resume.py',
              'test_tools/test_two_processes_equal_one.py',
              'test_tools/test_launch_commands.py',
              'test_tools/test_preemption.py',
              'test_benchmarks/test_gpu_check.py')


def pytest_ignore_collect(collection_path, config):
    """Under a host other than mmselfsup, collect only :data:`BOTH_HOSTS`."""
    if HOST_NAME == 'mmselfsup':
        return None
    rel = os.path.relpath(str(collection_path), os.path.dirname(__file__))
    # kept: outside tests/, a listed path, inside one, or a folder above one
    kept = rel == '.' or rel.startswith('..') or any(
        rel == name or rel.startswith(name + '/') or name.startswith(rel + '/')
        for name in BOTH_HOSTS)
    return None if kept else True


torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _host_scope():
    """Every test starts in the host's default scope (mmselfsup's or
    mmpretrain's); a scope a test's Runner sets (e.g. mmcls for the
    evaluation configs) ends with it."""
    with DefaultScope.overwrite_default_scope(HOST_NAME):
        yield


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture
def one_thread():
    """One torch thread for runner tests: on a shared 2-core machine two
    threads ran the tiny detector 10x slower (70 s vs 7 s for 10
    iterations) when another process held a core."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def mmseg_scope():
    """Make mmseg the default registry scope for the test."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


@pytest.fixture(scope='session')
def shapes_det_root(tmp_path_factory):
    """``det/`` of a tiny generated set: 6 train and 3 val detection images
    of 128 px with their label maps (for the dense probe's users)."""
    root = shapes_folder(
        tmp_path_factory,
        'shapes_det',
        num_train=1,
        num_val=0,
        num_det_train=6,
        num_det_val=3)
    return os.path.join(root, 'det')


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    """A small generated shapes set (32 + 8 classification, 8 + 4 detection
    images of 64 px); a folder's conftest or a module may define its own
    ``shapes_root`` of other sizes."""
    return shapes_folder(
        tmp_path_factory,
        num_train=32,
        num_val=8,
        num_det_train=8,
        num_det_val=4,
        det_img_size=64)
