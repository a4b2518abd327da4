# Copyright (c) mmsim contributors. All rights reserved.
"""tools/benchmarks/classification/{knn,logistic_regression}.py on the
shapes twins, from a SIM checkpoint."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from .conftest import NUM_TRAIN, NUM_VAL, QUICK_START, REPO

TOOLS = osp.join(REPO, 'tools', 'benchmarks', 'classification')
SHAPES = osp.join(REPO, 'configs', 'benchmarks', 'classification', 'shapes')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'mmsim_tool_{name}', osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_settings(root):
    """Config overrides pointing both splits at the tiny shapes set."""
    settings = {}
    for loader in ('train_dataloader', 'val_dataloader'):
        settings.update({
            f'{loader}.dataset.data_root':
            root,
            f'{loader}.dataset.classes':
            osp.join(root, 'meta/classes.txt'),
            f'{loader}.num_workers':
            0,
            f'{loader}.batch_size':
            8
        })
    return settings


def data_options(root):
    return [f'{k}={v}' for k, v in data_settings(root).items()]


def sim_features(checkpoint, cfg):
    """Features of the config's splits from the SIM model's own backbone."""
    from mmselfsup.registry import MODELS

    from mmsim.evaluation import extract_pooled_features
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        sim = MODELS.build(Config.fromfile(QUICK_START).model)
    sim.load_state_dict(torch.load(checkpoint)['state_dict'])
    with DefaultScope.overwrite_default_scope('mmcls'):
        loaders = [
            Runner.build_dataloader(cfg.get(name))
            for name in ('train_dataloader', 'val_dataloader')
        ]
    return [
        t for loader in loaders for t in extract_pooled_features(sim, loader)
    ]


def test_build_feature_model_loads_the_sim_backbone(shapes_cls_root,
                                                    sim_checkpoint):
    path, backbone_state = sim_checkpoint
    from mmsim.evaluation import frozen_features as tool
    args = load_tool('knn').parse_args(
        [osp.join(SHAPES, 'vit-tiny-p16_knn-k20_shapes.py'), path])
    cfg = tool.load_config(args, 'knn')
    assert cfg.model.backbone.init_cfg.checkpoint == path
    model = tool.build_feature_model(cfg)
    state = model.backbone.state_dict()
    for key, value in backbone_state.items():
        assert torch.equal(state[key], value), key


def test_config_without_pretrained_init_is_refused(tmp_path, sim_checkpoint):
    tool = load_tool('knn')
    with pytest.raises(ValueError, match='init_cfg must be'):
        tool.main([
            osp.join(SHAPES, 'vit-tiny-p16_knn-k20_shapes.py'),
            sim_checkpoint[0], '--cfg-options', 'model.backbone.init_cfg=None'
        ])


def test_knn_tool(shapes_cls_root, sim_checkpoint, tmp_path, capsys):
    path, _ = sim_checkpoint
    tool = load_tool('knn')
    assert tool.main([
        osp.join(SHAPES, 'vit-tiny-p16_knn-k20_shapes.py'), path, '--work-dir',
        str(tmp_path), '--cfg-options'
    ] + data_options(shapes_cls_root)) == 0
    out = capsys.readouterr().out  # a bar per split, reaching its total
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        assert f'{split}_dataloader:\npooled features of {num} images\n' \
            in out
        assert f'{num}/{num}, ' in out
    with open(tmp_path / 'knn.json') as f:
        result = json.load(f)
    assert result['k'] == 20 and result['temperature'] == 0.07
    assert (result['num_train'], result['num_val']) == (NUM_TRAIN, NUM_VAL)
    assert 0. <= result['top1'] <= 100.


def test_logistic_regression_tool(shapes_cls_root, sim_checkpoint, tmp_path,
                                  capsys):
    from mmsim.evaluation.logistic_regression import \
        logistic_regression_accuracy
    path, _ = sim_checkpoint
    config = osp.join(SHAPES, 'vit-tiny-p16_logreg_shapes.py')
    options = data_options(shapes_cls_root)
    tool = load_tool('logistic_regression')
    assert tool.main([
        config, path, '--work-dir',
        str(tmp_path), '--no-progress', '--cfg-options'
    ] + options) == 0
    out = capsys.readouterr().out
    assert 'pooled features' not in out and 'ETA' not in out
    with open(tmp_path / 'logistic_regression.json') as f:
        result = json.load(f)
    assert result['l2'] == 0.1 and result['fit_intercept'] is False
    assert (result['num_train'], result['num_val']) == (NUM_TRAIN, NUM_VAL)
    classifier = torch.load(tmp_path / 'logistic_regression.pth')
    assert classifier['weight'].shape == (8, 192)
    # Same number from the SIM model's own backbone: the Pretrained
    # init_cfg loaded the weights that matter.
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(data_settings(shapes_cls_root))
    feats = sim_features(path, cfg)
    expected = logistic_regression_accuracy(*feats[:3], feats[3], 8, l2=0.1)
    assert result['top1'] == pytest.approx(expected)


def test_imagenet_subset_tool(tmp_path):
    subset = tmp_path / '1percent.txt'
    subset.write_text('n02_7.JPEG\nn01_3.JPEG\n')
    ann = tmp_path / 'train.txt'
    ann.write_text('n01/n01_1.JPEG 0\nn01/n01_3.JPEG 0\nn02/n02_7.JPEG 1\n')
    out = tmp_path / 'train_1percent.txt'
    tool = load_tool('imagenet_subset')
    assert tool.main([str(subset), str(ann), str(out)]) == 0
    assert out.read_text() == 'n01/n01_3.JPEG 0\nn02/n02_7.JPEG 1\n'
    subset.write_text('n03_9.JPEG\n')
    with pytest.raises(ValueError, match=r"1 images .* \['n03_9.JPEG'\]"):
        tool.main([str(subset), str(ann), str(out)])
