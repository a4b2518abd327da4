# Copyright (c) mmsim contributors. All rights reserved.
import re

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmselfsup.registry import MODELS

from mmsim.datasets import generate_shapes_dataset
from mmsim.evaluation import (extract_pooled_features, knn_accuracy,
                              pooled_backbone_features)
from tests._dist_utils import run_distributed
from tests._model_cfgs import SIM_PREPROCESSOR, tiny_sim_cfg

NUM_TRAIN = 15  # odd: a 2-process sampler pads one duplicate


def _tiny_sim(seed=0):
    init_default_scope('mmselfsup')
    torch.manual_seed(seed)
    cfg = tiny_sim_cfg(data_preprocessor=SIM_PREPROCESSOR)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _loader(root, split='train', batch_size=4):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='mmcls.ResizeEdge', scale=32, edge='short'),
        dict(type='CenterCrop', crop_size=32),
        dict(type='mmcls.PackClsInputs'),
    ]
    return Runner.build_dataloader(
        dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='mmcls.CustomDataset',
                data_root=root,
                ann_file=f'meta/{split}.txt',
                data_prefix=dict(img_path=f'{split}/'),
                pipeline=pipeline)))


@pytest.fixture(scope='module')
def feature_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('feature_shapes'))
    generate_shapes_dataset(
        root,
        num_train=NUM_TRAIN,
        num_val=6,
        img_size=32,
        num_det_train=0,
        num_det_val=0)
    return root


def test_pooled_vit_features_are_the_mean_patch_token():
    model = _tiny_sim()
    images = torch.randn(3, 3, 32, 32)
    tokens = model.backbone(images)[0]  # SIMViT's own path, no mask
    expected = tokens[:, 1:].mean(dim=1)
    feats = pooled_backbone_features(model.backbone, images)
    assert feats.shape == (3, 32)
    torch.testing.assert_close(feats, expected, rtol=1e-5, atol=1e-5)


def test_mae_backbone_is_read_without_its_random_mask():
    init_default_scope('mmselfsup')
    backbone = MODELS.build(
        dict(
            type='MAEViT',
            arch=dict(
                embed_dims=32,
                num_layers=1,
                num_heads=4,
                feedforward_channels=64),
            img_size=32,
            patch_size=8,
            mask_ratio=0.75))
    backbone.eval()
    images = torch.randn(2, 3, 32, 32)
    first = pooled_backbone_features(backbone, images)
    assert first.shape == (2, 32)
    torch.testing.assert_close(first,
                               pooled_backbone_features(backbone, images))


def test_dataset_order_labels_and_batching(feature_root):
    model = _tiny_sim()
    feats, labels = extract_pooled_features(model, _loader(feature_root))
    with open(f'{feature_root}/meta/train.txt') as f:
        expected = [int(line.split()[1]) for line in f]
    assert feats.shape == (NUM_TRAIN, 32)
    assert labels.tolist() == expected
    single, _ = extract_pooled_features(model,
                                        _loader(feature_root, batch_size=1))
    torch.testing.assert_close(feats, single, rtol=1e-4, atol=1e-5)
    assert model.backbone.training  # restored after extraction


def test_target_backbone_by_name(feature_root):
    model = _tiny_sim()
    online, _ = extract_pooled_features(model, _loader(feature_root))
    target, _ = extract_pooled_features(model, _loader(feature_root),
                                        'target.module.backbone')
    # The target starts as a copy of the online encoder.
    torch.testing.assert_close(online, target)
    with pytest.raises(AttributeError, match='missing'):
        extract_pooled_features(model, _loader(feature_root), 'nope')


def _extract_on_rank(rank, world_size, root):
    torch.set_num_threads(1)
    model = _tiny_sim()
    train = extract_pooled_features(model, _loader(root))
    val = extract_pooled_features(model, _loader(root, 'val'))
    top1 = knn_accuracy(*train, *val, num_classes=8, k=3)
    return train[0], train[1], top1


def test_two_gloo_processes_match_one(feature_root):
    (feats, labels, top1), = run_distributed(
        _extract_on_rank, world_size=1, args=(feature_root, ))
    results = run_distributed(
        _extract_on_rank, world_size=2, args=(feature_root, ))
    for rank_feats, rank_labels, rank_top1 in results:
        assert rank_feats.shape == (NUM_TRAIN, 32)  # padding dropped
        torch.testing.assert_close(rank_feats, feats, rtol=1e-4, atol=1e-5)
        assert torch.equal(rank_labels, labels)
        assert rank_top1 == top1


def test_mmcls_classifier_with_its_own_preprocessor(feature_root):
    """mmcls's ClsDataPreprocessor returns a dict; the features are those
    of the backbone on the normalised images, batch order kept (batch 3)."""
    from mmcls.registry import MODELS as CLS_MODELS
    init_default_scope('mmcls')
    torch.manual_seed(0)
    classifier = CLS_MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='VisionTransformer',
                arch=dict(
                    embed_dims=32,
                    num_layers=1,
                    num_heads=4,
                    feedforward_channels=64),
                img_size=32,
                patch_size=8),
            data_preprocessor=dict(
                type='ClsDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                to_rgb=True)))
    init_default_scope('mmselfsup')
    loader = _loader(feature_root, batch_size=3)
    feats, labels = extract_pooled_features(classifier, loader)
    assert feats.shape == (NUM_TRAIN, 32)
    batch = next(iter(loader))
    images = torch.stack(batch['inputs']).float()[:, [2, 1, 0]]
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    classifier.backbone.eval()  # (mmcls's train() returns None)
    expected = pooled_backbone_features(classifier.backbone,
                                        (images - mean) / std)
    torch.testing.assert_close(feats[:3], expected, rtol=1e-4, atol=1e-5)


def test_progress_bar_counts_to_the_dataset_and_off_is_silent(
        feature_root, capsys):
    model = _tiny_sim()
    loader = _loader(feature_root, batch_size=4)
    capsys.readouterr()  # the init's log lines
    quiet, _ = extract_pooled_features(model, loader)
    assert capsys.readouterr().out == ''  # default: off (the monitor's)
    feats, _ = extract_pooled_features(model, loader, progress=True)
    out = capsys.readouterr().out
    assert out.startswith(f'pooled features of {NUM_TRAIN} images\n')
    assert out.endswith('\n') and out.count('\n') == 2
    # mmengine's bar redraws after every batch of 4: 4, 8, 12, 15 done
    counts = [int(m) for m in re.findall(rf'(\d+)/{NUM_TRAIN}, ', out)]
    assert counts == [0, 4, 8, 12, NUM_TRAIN]
    assert 'ETA' in out.rsplit('\r', 1)[-1]
    torch.testing.assert_close(feats, quiet)
    extract_pooled_features(model, loader, progress=False)
    assert capsys.readouterr().out == ''
