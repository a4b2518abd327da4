# Copyright (c) mmsim contributors. All rights reserved.
"""The quick start's training on wrong data paths and broken images,
through mmengine's plain Runner (what ``mim train mmselfsup`` builds) and
our ``tools/train.py`` (SIMRunner): what the user is told, and when."""
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.runner import BaseLoop, Runner

from tests._host import CUSTOM_DATASET, QUICKSTART_CONFIG
from tests._shapes_data import shapes_folder

REPO = osp.join(osp.dirname(__file__), '..', '..', '..')
CONFIG = QUICKSTART_CONFIG  # the host's
#: As the config names it ('mmcls.CustomDataset', 'CustomDataset').
DATASET = Config.fromfile(CONFIG).train_dataloader.dataset.type
TRAIN = osp.join(REPO, 'tools', 'train.py')


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    return shapes_folder(
        tmp_path_factory, 'bad_data_shapes', num_train=8, num_val=2)


def options(data_root: str, **extra) -> dict:
    """The quick start with one block, 4 images a batch, no monitor."""
    opts = {
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.classes': None,
        'train_dataloader.batch_size': 4,
        'model.backbone.arch.num_layers': 1,
        'custom_hooks': [],
        'train_cfg.max_epochs': 1,
    }
    opts.update(extra)
    return opts


def plain_runner_error(opts: dict, work_dir: str) -> Exception:
    """What ``Runner.from_cfg(cfg).train()`` raises, with the iteration
    it stopped at (``iteration``)."""
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(opts)
    cfg.work_dir = work_dir
    runner = Runner.from_cfg(cfg)
    with pytest.raises(Exception) as info:
        runner.train()
    # the loop is built by train(); None: the error came before it was
    loop = runner._train_loop
    info.value.iteration = loop.iter if isinstance(loop, BaseLoop) else None
    return info.value


def train_tool_error(opts: dict, work_dir: str) -> Exception:
    """What our ``tools/train.py`` raises (SIMRunner)."""
    spec = importlib.util.spec_from_file_location('mmsim_train', TRAIN)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    argv = [CONFIG, '--work-dir', work_dir, '--cfg-options']
    argv += [f'{key}={value}' for key, value in opts.items()]
    with pytest.raises(Exception) as info:
        tool.main(argv)
    return info.value


def path_case(case: str, root: str):
    """The options of a wrong-path case, and the fragment of the plain
    Runner's and of tools/train.py's error (both name the path)."""
    if case == 'no data_root':
        return (options(root + 'absent/'),
                f"No such file or directory: '{root}absent/meta/train.txt'",
                f"data_root '{root}absent/' of {DATASET} "
                f'({root}absent/meta/train.txt) does not exist')
    if case == 'no ann_file':
        return (options(root,
                        **{'train_dataloader.dataset.ann_file': 'meta/x.txt'}),
                f"No such file or directory: '{root}meta/x.txt'",
                f'the annotation file {root}meta/x.txt of {DATASET}'
                f' ({root}meta/x.txt) does not exist')
    prefix = {'train_dataloader.dataset.data_prefix.img_path': 'absent/'}
    return (options(root, **prefix), f"could not load image '{root}absent/",
            f'the image folder {root}absent/ (data_root + data_prefix) of '
            f'{DATASET} ({root}meta/train.txt) does not exist')


@pytest.mark.parametrize('case',
                         ['no data_root', 'no ann_file', 'no image folder'])
def test_a_wrong_path_is_named(shapes_root, tmp_path, case):
    opts, before, after = path_case(case, shapes_root)
    error = plain_runner_error(opts, str(tmp_path / 'plain'))
    assert isinstance(error, FileNotFoundError)
    assert before in str(error)
    assert error.iteration in (None, 0)
    if case == 'no image folder':
        # the plain Runner finds it at the first batch, in the worker
        assert 'Caught FileNotFoundError in DataLoader worker' in str(error)
        assert 'the file does not exist' in str(error)
    error = train_tool_error(opts, str(tmp_path / 'tool'))
    assert isinstance(error, FileNotFoundError)
    assert after in str(error)
    assert 'DataLoader worker' not in str(error)  # before any batch
    assert not os.path.exists(tmp_path / 'tool' / 'epoch_1.pth')


@pytest.mark.parametrize('with_ann_file', [True, False])
def test_an_empty_data_folder_is_named(tmp_path, with_ann_file):
    root = str(tmp_path / 'data') + '/'
    os.makedirs(root + ('' if with_ann_file else 'train/'))
    extra = {} if with_ann_file else {'train_dataloader.dataset.ann_file': ''}
    opts = options(root, **extra)
    plain = plain_runner_error(opts, str(tmp_path / 'plain'))
    tool = train_tool_error(opts, str(tmp_path / 'tool'))
    if with_ann_file:
        assert isinstance(plain, FileNotFoundError)
        assert f'{root}meta/train.txt' in str(plain)
        assert isinstance(tool, FileNotFoundError)
        assert f'the annotation file {root}meta/train.txt' in str(tool)
        assert f"(data_root '{root}' is empty)" in str(tool)
    else:  # the toolbox scans the image folder: its own error names it
        for error in (plain, tool):
            assert isinstance(error, RuntimeError)
            assert f"Found 0 files in subfolders of: {{'img_path': " \
                f"'{root}train/'}}" in str(error)


@pytest.fixture(scope='module')
def broken_root(shapes_root, tmp_path_factory) -> str:
    """The shapes set with its first image broken three ways, each first
    in an annotation file of 4 images (one batch)."""
    root = str(tmp_path_factory.mktemp('broken')) + '/'
    shutil.copytree(shapes_root, root, dirs_exist_ok=True)
    lines = open(root + 'meta/train.txt').read().split('\n')[:4]
    first = lines[0].split()[0]
    whole = open(root + 'train/' + first, 'rb').read()
    for kind, content in [('empty', b''), ('text', b'not an image\n'),
                          ('truncated', whole[:len(whole) // 2])]:
        name = first.replace('.jpg', f'_{kind}.jpg')
        open(root + 'train/' + name, 'wb').write(content)
        with open(root + f'meta/{kind}.txt', 'w') as handle:
            handle.write('\n'.join([f'{name} 0'] + lines[1:]) + '\n')
    return root


def broken_options(root: str, kind: str) -> dict:
    return options(
        root, **{
            'train_dataloader.dataset.ann_file': f'meta/{kind}.txt',
            'train_dataloader.sampler.shuffle': False,
            'train_dataloader.num_workers': 1,
        })


def broken_file(root: str, kind: str) -> str:
    name = open(root + f'meta/{kind}.txt').readline().split()[0]
    return root + 'train/' + name


@pytest.mark.parametrize(
    'kind,what', [
        ('empty', 'empty (0 bytes)'),
        ('text', 'not an image file Pillow can read'),
        ('truncated', 'truncated'),
    ],
    ids=['empty', 'text', 'truncated'])
def test_a_broken_image_in_a_worker_is_named(broken_root, tmp_path, kind,
                                             what):
    """torch re-raises the worker's error in the main process with the
    worker's traceback in its text: the last line is our loader's error,
    naming the file."""
    error = plain_runner_error(
        broken_options(broken_root, kind), str(tmp_path))
    assert type(error) is OSError
    message = str(error)
    assert message.startswith('Caught OSError in DataLoader worker process')
    last = message.strip().splitlines()[-1]
    path = broken_file(broken_root, kind)
    assert last.startswith(f"OSError: could not load image '{path}'")
    assert what in last
    assert error.iteration == 0


def test_train_tool_prints_the_file_last(broken_root, tmp_path):
    """``python tools/train.py`` in a shell: the last line it prints."""
    opts = broken_options(broken_root, 'empty')
    cmd = [sys.executable, TRAIN, CONFIG, '--work-dir', str(tmp_path)]
    cmd += ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    path = broken_file(broken_root, 'empty')
    assert last == (f"OSError: could not load image '{path}' (ValueError: "
                    'the file is empty (0 bytes)); the file is probably '
                    'truncated or corrupt: re-download or remove it')


def test_remote_paths_are_left_to_their_backend():
    from mmsim.engine.runner.dataloader_checks import check_data_paths
    check_data_paths(
        dict(
            type=CUSTOM_DATASET,
            data_root='s3://bucket/imagenet/',
            ann_file='meta/train.txt',
            data_prefix=dict(img_path='train/')))
    with pytest.raises(FileNotFoundError, match='/nowhere/'):
        check_data_paths(dict(dataset=dict(data_root='/nowhere/')))
