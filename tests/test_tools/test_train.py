# Copyright (c) mmsim contributors. All rights reserved.
"""tools/train.py: several processes on CPU, clear errors for bad data."""
import importlib.util
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmsim.engine import EmptyDataError
from tests._host import QUICKSTART_CONFIG
from tests._subprocess_env import cpu_subprocess_env

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
CONFIG = QUICKSTART_CONFIG  # the host's


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def train_command(config: str, work_dir: str, nproc: int = 1) -> list:
    """``python tools/train.py CONFIG --work-dir DIR``, through
    ``torch.distributed.run`` (``--launcher pytorch``, a free port) for
    several processes."""
    command = [sys.executable, TRAIN, config, '--work-dir', work_dir]
    if nproc > 1:
        command = [
            sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
            str(nproc), '--master_port',
            str(_free_port())
        ] + command[1:] + ['--launcher', 'pytorch']
    return command


def _tiny_config(path: str,
                 data_root: str,
                 record_dir: str,
                 num_workers: int = 0) -> str:
    """The quick-start config as shipped (its randomness included) with a
    2-layer encoder, batch 4, one epoch, and the batch recorder for the
    kNN monitor."""
    with open(path, 'w') as handle:
        handle.write(f"""
_base_ = {CONFIG!r}
custom_imports = dict(
    imports=['mmsim', 'tests.test_tools._batch_recorder'],
    allow_failed_imports=False)
model = dict(backbone=dict(arch=dict(num_layers=2)))
train_dataloader = dict(
    batch_size=4,
    num_workers={num_workers},
    dataset=dict(data_root={data_root!r},
                 classes={data_root + 'meta/classes.txt'!r}))
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
custom_hooks = [dict(type='BatchRecorderHook', out_dir={record_dir!r})]
""")
    return path


@pytest.mark.timeout(300)
def test_two_cpu_processes_train_with_different_masks(shapes_root, tmp_path):
    """``torchrun --nproc_per_node 2 tools/train.py CFG --launcher pytorch``
    on a machine without CUDA: before, mmengine's launcher stopped with
    "Found no NVIDIA driver"; and with the shipped ``randomness=dict(
    seed=0)`` the two ranks drew the same masks and crops (in-process
    loading). Now both ranks train one DDP epoch over gloo, draw their
    own masks and view geometry and end with the same weights."""
    config = _tiny_config(
        str(tmp_path / 'tiny.py'), shapes_root, str(tmp_path))
    env = cpu_subprocess_env()
    command = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
        '--master_port',
        str(_free_port()), TRAIN, config, '--launcher', 'pytorch',
        '--work-dir',
        str(tmp_path / 'work')
    ]
    done = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    ranks = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    assert [r['world_size'] for r in ranks] == [2, 2]
    assert ranks[0]['wrapper'] == 'MMDistributedDataParallel'
    # 16 images, 2 ranks x batch 4: 2 iterations, each rank its own images
    assert [len(r['batches']) for r in ranks] == [2, 2]
    paths = [{p for b in r['batches'] for p in b['img_path']} for r in ranks]
    assert len(paths[0]) == len(paths[1]) == 8 and not paths[0] & paths[1]
    for first, second in zip(ranks[0]['batches'], ranks[1]['batches']):
        assert not torch.equal(first['mask'], second['mask'])
        assert not torch.equal(first['rel_pos'], second['rel_pos'])
    # DDP kept the ranks in step: same weights (momentum target included)
    for key, value in ranks[0]['weights'].items():
        torch.testing.assert_close(
            ranks[1]['weights'][key], value, rtol=0, atol=0, msg=key)
    assert all(torch.isfinite(torch.tensor(r['losses'])).all() for r in ranks)
    assert osp.exists(tmp_path / 'work' / 'epoch_1.pth')


def _load_train_tool():
    spec = importlib.util.spec_from_file_location('mmsim_train', TRAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _options(data_root, **extra):
    options = {
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.classes': data_root + 'meta/classes.txt',
        'model.backbone.arch.num_layers': 2,
        'custom_hooks': [],
    }
    options.update(extra)
    return options


@pytest.mark.parametrize('case', ['small', 'empty'])
def test_train_entry_names_the_file_and_setting(shapes_root, tmp_path, case):
    """16 images and batch 32 with drop_last, or an empty annotation file:
    mmselfsup's flow (plain Runner) stops in mmengine with errors that name
    neither; tools/train.py names the file and the setting."""
    extra = {}
    if case == 'empty':
        ann = tmp_path / 'train.txt'
        ann.write_text('')
        extra['train_dataloader.dataset.ann_file'] = str(ann)
    options = _options(shapes_root, **extra)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(options)
    cfg.work_dir = str(tmp_path / 'before')
    before = {
        'small': (AssertionError, 'epoch_length. must be a positive integer'),
        'empty': (ValueError, 'need at least one array to concatenate'),
    }[case]
    with pytest.raises(before[0], match=before[1]):
        Runner.from_cfg(cfg).train()
    argv = [CONFIG, '--work-dir', str(tmp_path / 'after'), '--cfg-options']
    argv += [f'{key}={value}' for key, value in options.items()]
    with pytest.raises(EmptyDataError) as info:
        _load_train_tool().main(argv)
    message = str(info.value)
    if case == 'small':
        assert f'{shapes_root}meta/train.txt' in message
        assert 'has 16 samples' in message
        assert 'batch_size=32, drop_last=True' in message
        assert 'train_dataloader.batch_size=16' in message
    else:
        assert f'the annotation file {ann}' in message and 'empty' in message
