# Copyright (c) mmsim contributors. All rights reserved.
"""docs/own_images.md, run as written on a generated folder of images."""
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from ._guide import (check, command, commands, config_files, make_workspace,
                     read_guide)
from ._guide import run as run_command

GUIDE = read_guide('own_images.md')
#: appended to the CPU training commands: 1 epoch, 2 blocks, batch 4
SHRINK = [
    '--cfg-options', 'train_cfg.max_epochs=1',
    'model.backbone.arch.num_layers=2', 'train_dataloader.batch_size=4',
    'train_dataloader.num_workers=0', 'default_hooks.logger.interval=1'
]


def _only(start: str, contains: str = '', without: str = '') -> str:
    """The one guide command that starts with ``start``, holds
    ``contains`` and not ``without``."""
    found = [
        c for c in commands(GUIDE) if c.startswith(start) and contains in c
        and not (without and without in c)
    ]
    assert len(found) == 1, (start, contains, without, found)
    return found[0]


def _image(path: str, seed: int, size=(40, 52)) -> None:
    rng = np.random.default_rng(seed)
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (*size, 3), np.uint8)).save(path)


def _my_images(root: str) -> list:
    """9 images (top level and two nested levels, .jpg, .png, .JPG), a
    broken .jpg, a .png with a space in its name and a text file."""
    names = [
        '0001.jpg', '0002.png', 'holiday/0003.JPG', 'holiday/beach/0004.png',
        'holiday/beach/0005.jpg', 'trip/0006.png', 'trip/0007.jpg',
        'trip/day2/0008.jpg', 'trip/day2/0009.png'
    ]
    for seed, name in enumerate(names):
        _image(osp.join(root, name), seed)
    with open(osp.join(root, 'trip', 'broken.jpg'), 'wb') as handle:
        handle.write(b'not an image')
    _image(osp.join(root, 'with space.png'), 99, (8, 8))
    with open(osp.join(root, 'notes.txt'), 'w') as handle:
        handle.write('not an image either\n')
    return sorted(names)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory) -> str:
    """The guide's folder and configs, and the list its first command
    writes."""
    root = make_workspace(str(tmp_path_factory.mktemp('own')), GUIDE)
    names = _my_images(osp.join(root, 'data', 'my_images'))
    for split, per_class in (('train', 6), ('val', 3)):
        for index, name in enumerate(('cat', 'dog')):
            for i in range(per_class):
                _image(
                    osp.join(root, 'data', 'my_labelled', split, name,
                             f'{i}.png'), 1000 * index + i)
    done = run_command(
        _only('python tools/data/list_images.py', without='--also'), root)
    output = check(done)
    return dict(root=root, names=names, output=output, seconds=done.seconds)


def test_the_list_holds_the_readable_images(workspace):
    """Step 1: the readable images, sorted relative paths, no label; the
    broken file and the one with a space printed with the reason; the
    printed lines are the guide's."""
    with open(osp.join(workspace['root'], 'data/my_images/image_list.txt')) \
            as handle:
        assert handle.read().splitlines() == workspace['names']
    lines = workspace['output'].splitlines()
    guide_lines = ('unreadable:', 'not listed:', '9 readable', 'skipped:')
    for line in lines:
        if line.startswith(guide_lines):
            assert line in GUIDE, line
    assert 'skipped: notes.txt: not an image extension' in lines[0]
    assert any(
        line.startswith('unreadable: trip/broken.jpg') for line in lines)
    assert any(line.startswith('not listed: with space.png') for line in lines)
    assert workspace['seconds'] < 30


def _dataset_and_sample(cfg: Config):
    from mmselfsup.registry import DATASETS
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    return dataset, dataset[0]


def test_vit_b_recipe_reads_the_list(workspace):
    """Step 2 needs 8 GPUs; here: the config file and the --cfg-options
    form give the same dataset, which lists the 9 images and runs them
    through the 224 px training pipeline (two views and the mask)."""
    import importlib.util
    root = workspace['root']
    cfg_path = osp.join(
        root, 'my_configs',
        'sim_vit-base-p16_16xb256-amp-coslr-1600e_my-images.py')
    from_file = command(GUIDE, 'mim train mmselfsup my_configs/')
    assert cfg_path.endswith(from_file.split()[3])
    with_options = command(GUIDE, 'mim train mmselfsup configs/sim/',
                           '--cfg-options')
    spec = importlib.util.spec_from_file_location(
        'mmsim_train', osp.join(root, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    import shlex
    argv = shlex.split(with_options)[3:]
    argv = [
        a for a in argv if a not in ('--launcher', 'pytorch', '--gpus', '8')
    ]
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cfg_options = train.build_config(train.parse_args(argv))
        cfg_file = Config.fromfile(cfg_path)
        assert cfg_options.train_dataloader.dataset == \
            cfg_file.train_dataloader.dataset
        dataset, sample = _dataset_and_sample(cfg_file)
        paths = [
            osp.relpath(d['img_path'], 'data/my_images/')
            for d in dataset.load_data_list()
        ]
    finally:
        os.chdir(cwd)
    assert type(dataset).__name__ == 'ImageList'
    assert paths == workspace['names']
    assert tuple(sample['inputs'][0].shape) == (3, 224, 224)
    assert int(sample['data_samples'].mask.value.sum()) == 118


def _scalars(work_dir: str) -> list:
    found = []
    for base, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(base, 'scalars.json')) as handle:
                found += [json.loads(line) for line in handle]
    return found


@pytest.mark.timeout(120)
def test_cpu_try_trains_on_the_list(workspace):
    """Step 3, as written plus SHRINK: one epoch on the 9 listed images
    (2 iterations of 4), a finite loss, a checkpoint, no kNN monitor."""
    root = workspace['root']
    line = _only('python tools/train.py', 'sim_vit-tiny-p16_my-images.py',
                 '--cfg-options')
    output = check(run_command(line, root, SHRINK))
    work_dir = osp.join(root, 'work_dirs', 'sim_vit-tiny-p16_my-images')
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    losses = [s['loss'] for s in _scalars(work_dir) if 'loss' in s]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    assert 'KNNMonitorHook' not in output


@pytest.mark.timeout(120)
def test_monitor_on_a_labelled_subset(workspace):
    """Step 4: the monitor scores the labelled subset (scanned class
    folders) while SIM trains on the unlabelled list."""
    root = workspace['root']
    line = command(GUIDE, 'python tools/train.py',
                   'sim_vit-tiny-p16_my-images_knn.py')
    check(run_command(line, root, SHRINK))
    work_dir = osp.join(root, 'work_dirs', 'sim_vit-tiny-p16_my-images_knn')
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    top1 = [s['knn/top1'] for s in _scalars(work_dir) if 'knn/top1' in s]
    assert top1 and all(0 <= v <= 100 for v in top1)
    # the pixel baseline, once, and the plot that draws it
    pixels = [(s['step'], s['knn/pixels']) for s in _scalars(work_dir)
              if 'knn/pixels' in s]
    assert len(pixels) == 1 and pixels[0][0] == 0
    assert 0 <= pixels[0][1] <= 100
    plotted = check(
        run_command(
            command(GUIDE, 'python tools/analysis/plot_scalars.py'), root))
    assert 'knn/pixels' in plotted and 'drawn on the knn/top1 panel' in \
        plotted
    assert osp.isfile(osp.join(work_dir, 'scalars.png'))


def test_labelled_folders_checked_and_a_meta_folder_refused(workspace):
    """Step 4's checks: --also passes on the clean labelled folders; a
    meta/ in train/ only is an error of the list tool (exit 1) and stops
    the monitor before training, with both class lists named."""
    root = workspace['root']
    also = _only('python tools/data/list_images.py', '--also')
    output = check(run_command(also, root))
    assert '12 image(s) in 2 class folder(s) of data/my_labelled/train' in \
        output
    meta = osp.join(root, 'data', 'my_labelled', 'train', 'meta')
    os.makedirs(meta)
    with open(osp.join(meta, 'train.txt'), 'w') as handle:
        handle.write('cat/0.png\n')
    try:
        done = run_command(also, root)
        assert done.returncode == 1
        assert "['cat', 'dog', 'meta']" in done.stderr
        line = command(GUIDE, 'python tools/train.py',
                       'sim_vit-tiny-p16_my-images_knn.py')
        done = run_command(line, root, SHRINK)
    finally:
        os.remove(osp.join(meta, 'train.txt'))
        os.rmdir(meta)
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert 'KNNMonitorHook: the train and val splits label their classes ' \
        'differently' in text
    for listed in ("['cat', 'dog', 'meta']", "['cat', 'dog']",
                   "only in train: ['meta']"):
        assert listed in text and listed in GUIDE
    assert 'Epoch(train)' not in text  # stopped before training


def test_the_short_run_shortens_the_whole_schedule(workspace):
    """Step 3's shorter run: its options end the cosine with the last
    epoch (T_max and end follow max_epochs), which max_epochs alone does
    not."""
    import importlib.util
    import shlex
    root = workspace['root']
    line = _only('python tools/train.py',
                 'sim_vit-tiny-p16_my-images.py --cfg-options')
    spec = importlib.util.spec_from_file_location(
        'mmsim_train_short', osp.join(root, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cfg = train.build_config(train.parse_args(shlex.split(line)[2:]))
        plain = Config.fromfile('my_configs/sim_vit-tiny-p16_my-images.py')
    finally:
        os.chdir(cwd)
    epochs = cfg.train_cfg.max_epochs
    assert 2 <= epochs < plain.train_cfg.max_epochs
    warmup, cosine = cfg.param_scheduler
    assert warmup.end == 1 and cosine.begin == 1
    assert cosine.end == epochs and cosine.T_max == epochs - 1
    assert plain.param_scheduler[1].end == plain.train_cfg.max_epochs


def test_what_the_toolboxes_do_without_a_list(workspace, tmp_path):
    """The guide's claims on mmcls 1.0.0rc6: a scan takes only
    subfolders (images at the top level are ignored, each top-level
    subfolder a class, unreadable files kept); CustomDataset needs a
    label on every line of an annotation file."""
    import shutil

    from mmcls.datasets import CustomDataset
    folder = osp.join(workspace['root'], 'data', 'my_images')
    # the list where the tool wrote it by default before 2026-12-06
    os.makedirs(osp.join(folder, 'meta'), exist_ok=True)
    shutil.copy(
        osp.join(folder, 'image_list.txt'),
        osp.join(folder, 'meta', 'train.txt'))
    scanned = CustomDataset(data_root=folder, ann_file='')
    paths = sorted(
        osp.relpath(d['img_path'], folder) for d in scanned.load_data_list())
    assert '0001.jpg' not in paths and 'trip/broken.jpg' in paths
    assert 'holiday/beach/0004.png' in paths
    assert scanned.CLASSES == ('holiday', 'meta', 'trip')
    with pytest.raises(ValueError, match='not enough values to unpack'):
        CustomDataset(data_root=folder, ann_file='meta/train.txt')
    assert 'with_label' not in CustomDataset.__init__.__code__.co_varnames
    files = config_files(GUIDE)
    assert len(files) == 3 and all(p.startswith('my_configs/') for p in files)
