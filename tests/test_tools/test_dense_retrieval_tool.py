# Copyright (c) mmsim contributors. All rights reserved.
"""tools/benchmarks/dense_retrieval.py on a tiny generated set."""
import json
import os.path as osp
import runpy
from types import SimpleNamespace

import pytest
import torch

from mmsim.evaluation import (build_pretrain_model, extract_patch_features,
                              load_dense_probe_set, oracle_miou,
                              pixel_patch_features, retrieval_miou)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
tool = SimpleNamespace(**runpy.run_path(
    osp.join(REPO, 'tools', 'benchmarks', 'dense_retrieval.py')))

CONFIG = osp.join(REPO, 'configs', 'sim',
                  'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')


def _run(args, work_dir):
    assert tool.main(args + ['--work-dir', work_dir, '--no-progress']) == 0
    with open(osp.join(work_dir, 'dense_retrieval.json')) as f:
        return json.load(f)


def _sets(root):
    return [
        load_dense_probe_set(
            osp.join(root, split), osp.join(root, 'labels', split))
        for split in ('train', 'val')
    ]


def test_checkpoint_floor_and_ceiling(shapes_det_root, tmp_path, capsys):
    """The JSON's three numbers are the library's, recomputed here on the
    same images: the checkpoint's retrieval, the raw-pixel floor with the
    same options, the oracle of the val labels (no order among them is
    assumed)."""
    model = build_pretrain_model(CONFIG, seed=1)
    with torch.no_grad():  # weights unlike the seed-0 init
        model.backbone.layers[0].ffn.layers[1].weight.mul_(3.)
    ckpt = str(tmp_path / 'sim.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    result = _run([
        CONFIG, ckpt, '--data-root', shapes_det_root, '--k', '5',
        '--temperature', '0.1'
    ], str(tmp_path / 'out'))
    out = capsys.readouterr().out
    assert 'dense retrieval: mIoU ' in out and 'memory of 6' in out
    assert 'raw pixels (floor): ' in out and 'label oracle (ceiling): ' in out
    assert result['grid'] == [8, 8]  # 128 px, patch 16
    assert (result['k'], result['temperature'],
            result['standardise']) == (5, 0.1, False)
    assert result['checkpoint'] == ckpt and len(result['IoU']) == 9
    train, val = _sets(shapes_det_root)
    options = dict(num_classes=9, k=5, temperature=0.1, ignore_index=255)
    feats = [extract_patch_features(model, s.images) for s in (train, val)]
    expected = retrieval_miou(feats[0], train.label_maps, feats[1],
                              val.label_maps, **options)
    assert result['mIoU'] == pytest.approx(expected['mIoU'])
    assert result['accuracy'] == pytest.approx(expected['accuracy'])
    pixels = retrieval_miou(
        pixel_patch_features(train.images, (8, 8)), train.label_maps,
        pixel_patch_features(val.images, (8, 8)), val.label_maps, **options)
    assert result['pixels_mIoU'] == pytest.approx(pixels['mIoU'])
    oracle = oracle_miou(val.label_maps, (8, 8), 9, 255)
    assert result['oracle_mIoU'] == pytest.approx(oracle['mIoU'])
    for key in ('mIoU', 'pixels_mIoU', 'oracle_mIoU'):
        assert 0. <= result[key] <= 100.


def test_random_init_and_standardise(shapes_det_root, tmp_path):
    """``random`` is the config's seed-0 init; --standardise is recorded
    and standardises the encoder's and the pixels' features alike; the
    oracle depends on the labels only."""
    args = [CONFIG, 'random', '--data-root', shapes_det_root]
    plain = _run(args, str(tmp_path / 'plain'))
    standard = _run(args + ['--standardise'], str(tmp_path / 'std'))
    assert (plain['standardise'], standard['standardise']) == (False, True)
    assert plain['checkpoint'] == 'random'
    assert standard['oracle_mIoU'] == plain['oracle_mIoU']
    train, val = _sets(shapes_det_root)
    model = build_pretrain_model(CONFIG, None, 0)
    feats = [extract_patch_features(model, s.images) for s in (train, val)]
    for result, flag in ((plain, False), (standard, True)):
        expected = retrieval_miou(
            feats[0],
            train.label_maps,
            feats[1],
            val.label_maps,
            9,
            standardise_features=flag,
            ignore_index=255)
        assert result['mIoU'] == pytest.approx(expected['mIoU'])
    pixels = retrieval_miou(
        pixel_patch_features(train.images, (8, 8)),
        train.label_maps,
        pixel_patch_features(val.images, (8, 8)),
        val.label_maps,
        9,
        standardise_features=True,
        ignore_index=255)
    assert standard['pixels_mIoU'] == pytest.approx(pixels['mIoU'])


def test_missing_checkpoint_is_named(shapes_det_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        tool.main([
            CONFIG,
            str(tmp_path / 'nope.pth'), '--data-root', shapes_det_root,
            '--work-dir',
            str(tmp_path)
        ])
