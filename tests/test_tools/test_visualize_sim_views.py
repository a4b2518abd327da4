# Copyright (c) mmsim contributors. All rights reserved.
"""tools/analysis/visualize_sim_views.py on a generated shapes set."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmselfsup.registry import MODELS
from PIL import Image

from mmsim.datasets import generate_shapes_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'sim',
                  'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')


def load_tool():
    path = osp.join(ROOT, 'tools', 'analysis', 'visualize_sim_views.py')
    spec = importlib.util.spec_from_file_location('visualize_sim_views', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def cfg_options(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('shapes')) + '/'
    generate_shapes_dataset(
        root,
        num_train=8,
        num_val=1,
        img_size=48,
        num_det_train=0,
        num_det_val=0)
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'train_dataloader.dataset.classes={root}meta/classes.txt',
        'model.backbone.arch.num_layers=1',
    ]


def test_draws_views_and_correspondences(cfg_options, tmp_path, capsys):
    out = str(tmp_path / 'views.png')
    tool = load_tool()
    assert tool.main([
        CONFIG, '--out', out, '--num-images', '3', '--cfg-options',
        *cfg_options
    ]) == 0
    assert 'saved' in capsys.readouterr().out
    with Image.open(out) as img:
        assert img.format == 'PNG'
        width, height = img.size
        colours = img.convert('RGB').getcolors(maxcolors=1 << 20)
    assert height > width  # 3 rows of 2 panels
    assert len(colours) > 100  # not a blank canvas


def test_draws_pca_maps_from_a_checkpoint(cfg_options, tmp_path, capsys):
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.arch.num_layers = 1
    init_default_scope('mmselfsup')
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = str(tmp_path / 'sim.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    out = str(tmp_path / 'maps.png')
    tool = load_tool()
    assert tool.main([
        CONFIG, '--checkpoint', ckpt, '--out', out, '--indices', '0', '5',
        '--cfg-options', *cfg_options
    ]) == 0
    printed = capsys.readouterr().out
    assert 'image 5: cosine(prediction, target)' in printed
    with Image.open(out) as img:
        width, height = img.size
    assert width > height  # 2 rows of 4 panels


def test_rejects_out_of_range_indices(cfg_options, tmp_path):
    with pytest.raises(ValueError, match=r'--indices \[99\] out of range'):
        load_tool().main([
            CONFIG, '--out',
            str(tmp_path / 'x.png'), '--indices', '99', '--cfg-options',
            *cfg_options
        ])
