# Copyright (c) mmsim contributors. All rights reserved.
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from mmsim.datasets import generate_shapes_dataset
from mmsim.evaluation import (confusion_matrix, dense_probe_miou,
                              dense_probe_miou_of_features,
                              extract_patch_features, fit_logistic_regression,
                              load_dense_probe_set, mean_iou,
                              patch_centre_labels, predict_logistic_regression)
from tests._dist_utils import run_distributed
from tests.test_evaluation.test_feature_extraction import _tiny_sim

NUM_CLASSES = 9  # 8 shapes + background


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('dense_shapes'))
    generate_shapes_dataset(
        root,
        num_train=1,
        num_val=0,
        img_size=32,
        num_det_train=6,
        num_det_val=3,
        det_img_size=64)
    return osp.join(root, 'det')


def _splits(det_root, img_size=32):
    return [
        load_dense_probe_set(
            osp.join(det_root, split), osp.join(det_root, 'labels', split),
            img_size) for split in ('train', 'val')
    ]


def _iou_by_loops(pred: np.ndarray, target: np.ndarray, num_classes: int):
    """Per-class IoU (%) by set counting, NaN where a class occurs nowhere."""
    ious = []
    for c in range(num_classes):
        inter = np.sum((pred == c) & (target == c))
        union = np.sum((pred == c) | (target == c))
        ious.append(np.nan if union == 0 else 100. * inter / union)
    return np.array(ious)


def test_loads_images_bgr_and_label_maps(det_root):
    data = load_dense_probe_set(
        osp.join(det_root, 'val'), osp.join(det_root, 'labels', 'val'))
    assert data.names == ['000000', '000001', '000002']
    assert data.images.shape == (3, 3, 64, 64)
    assert data.images.dtype == torch.uint8
    assert data.label_maps.shape == (3, 64, 64)
    rgb = np.asarray(Image.open(osp.join(det_root, 'val', '000001.jpg')))
    assert np.array_equal(data.images[1].permute(1, 2, 0).numpy(),
                          rgb[..., ::-1])
    labels = np.asarray(
        Image.open(osp.join(det_root, 'labels', 'val', '000001.png')))
    assert np.array_equal(data.label_maps[1].numpy(), labels)
    assert 0 < labels.max() <= 8 and (labels == 0).any()


def test_missing_label_map_names_the_files(det_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='000000.png'):
        load_dense_probe_set(osp.join(det_root, 'val'), str(tmp_path))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        load_dense_probe_set(str(tmp_path / 'nowhere'), str(tmp_path))


def test_a_broken_image_is_named_as_the_loader_names_it(det_root, tmp_path):
    """A file that does not decode: the pre-training loader's OSError
    naming it, not an AttributeError on None."""
    import shutil
    img_dir = str(tmp_path / 'img')
    shutil.copytree(osp.join(det_root, 'val'), img_dir)
    broken = osp.join(img_dir, '000001.jpg')
    with open(broken, 'wb') as handle:
        handle.write(b'not a jpeg')
    with pytest.raises(OSError, match='could not load image') as info:
        load_dense_probe_set(img_dir, osp.join(det_root, 'labels', 'val'))
    assert broken in str(info.value)


def test_labels_beyond_num_classes_are_refused(det_root):
    """Label maps holding a class >= num_classes (not the ignore index)
    stop the probe before any feature is extracted, naming the split."""
    train, val = _splits(det_root)
    with pytest.raises(ValueError, match='the train label maps hold class'):
        dense_probe_miou(None, train, val, num_classes=2)


def test_patch_centre_labels_pick_the_centre_pixel():
    maps = torch.randint(0, 5, (2, 12, 8))
    labels = patch_centre_labels(maps, (3, 2))
    for i in range(3):
        for j in range(2):
            # 4 x 4 patches: centre at (4 i + 2, 4 j + 2)
            assert torch.equal(labels[:, i, j], maps[:, 4 * i + 2, 4 * j + 2])


def test_confusion_and_miou_against_set_counting():
    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 5, (500, ), generator=gen)
    pred = torch.where(
        torch.rand(500, generator=gen) < 0.6, target,
        torch.randint(0, 5, (500, ), generator=gen))
    target[:20] = 255  # ignored
    pred[20:40] = 4  # class 4 over-predicted
    confusion = confusion_matrix(pred, target, num_classes=6)
    keep = target != 255
    assert confusion.sum() == keep.sum()
    miou, iou = mean_iou(confusion)
    expected = _iou_by_loops(pred[keep].numpy(), target[keep].numpy(), 6)
    assert np.isnan(iou[5]) and np.isnan(expected[5])  # class 5 nowhere
    np.testing.assert_allclose(iou[:5].numpy(), expected[:5], rtol=1e-5)
    assert miou == pytest.approx(np.nanmean(expected), rel=1e-6)
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        confusion_matrix(pred, target, num_classes=3)


def test_patch_features_are_the_backbone_tokens_on_their_grid(det_root):
    model = _tiny_sim()
    train, _ = _splits(det_root)
    feats = extract_patch_features(model, train.images, batch_size=4)
    assert feats.shape == (6, 4, 4, 32)  # 32 px, patch 8
    # independently: normalise by hand (BGR -> RGB, ImageNet mean / std)
    rgb = train.images.flip(1).float()
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    tokens = model.backbone((rgb - mean) / std)[0][:, 1:]
    torch.testing.assert_close(
        feats.reshape(6, 16, 32), tokens, rtol=1e-5, atol=1e-5)


def test_probe_miou_equals_an_independent_computation(det_root):
    model = _tiny_sim()
    train, val = _splits(det_root)
    result = dense_probe_miou(model, train, val, NUM_CLASSES, max_iter=50)
    assert result['grid'] == (4, 4)
    assert int(result['confusion'].sum()) == 3 * 16  # every val patch

    def patches(data):
        feats = extract_patch_features(model, data.images)
        return (feats.reshape(-1,
                              32), patch_centre_labels(data.label_maps,
                                                       (4, 4)).reshape(-1))

    (train_x, train_y), (val_x, val_y) = patches(train), patches(val)
    classifier = fit_logistic_regression(
        train_x, train_y, NUM_CLASSES, max_iter=50, fit_intercept=True)
    pred = predict_logistic_regression(classifier, val_x).numpy()
    expected = _iou_by_loops(pred, val_y.numpy(), NUM_CLASSES)
    assert result['mIoU'] == pytest.approx(np.nanmean(expected), rel=1e-5)
    assert 0. <= result['mIoU'] <= 100.


def test_probe_of_features_is_the_probe_of_the_model(det_root):
    """Given the same patch features, the features-level probe returns
    what the model-level one does; mismatched grids and out-of-range
    labels are refused, naming what is wrong."""
    model = _tiny_sim()
    train, val = _splits(det_root)
    result = dense_probe_miou(model, train, val, NUM_CLASSES, max_iter=50)
    feats = [extract_patch_features(model, s.images) for s in (train, val)]
    again = dense_probe_miou_of_features(
        feats[0],
        train.label_maps,
        feats[1],
        val.label_maps,
        NUM_CLASSES,
        max_iter=50)
    assert again['mIoU'] == result['mIoU'] and again['grid'] == (4, 4)
    assert torch.equal(again['confusion'], result['confusion'])
    with pytest.raises(
            ValueError, match=r'grids differ: \(4, 4\) and '
            r'\(2, 8\)'):
        dense_probe_miou_of_features(feats[0], train.label_maps,
                                     feats[1].reshape(3, 2, 8, 32),
                                     val.label_maps, NUM_CLASSES)
    with pytest.raises(ValueError, match='the val label maps hold class'):
        dense_probe_miou_of_features(feats[0], train.label_maps, feats[1],
                                     val.label_maps + NUM_CLASSES, NUM_CLASSES)


def _dist_patch_features(rank, world_size, det_root):
    model = _tiny_sim()
    train, _ = _splits(det_root)
    return extract_patch_features(model, train.images, batch_size=2)


def test_two_processes_return_the_single_process_features(det_root):
    single = extract_patch_features(_tiny_sim(), _splits(det_root)[0].images)
    for feats in run_distributed(_dist_patch_features, 2, (det_root, )):
        torch.testing.assert_close(feats, single, rtol=1e-5, atol=1e-5)


def test_probe_progress_bars_reach_each_splits_total(det_root, capsys):
    model = _tiny_sim()
    train, val = _splits(det_root)
    capsys.readouterr()  # the init's log lines
    quiet = dense_probe_miou(model, train, val, NUM_CLASSES)
    assert capsys.readouterr().out == ''  # off by default (the monitor's)
    loud = dense_probe_miou(model, train, val, NUM_CLASSES, progress=True)
    out = capsys.readouterr().out
    lines = out.split('\n')
    assert lines[0] == 'patch features of 6 images'
    assert lines[1].rsplit('\r', 1)[-1].startswith('[') and \
        '6/6, ' in lines[1].rsplit('\r', 1)[-1]
    assert lines[2] == 'patch features of 3 images'
    assert '3/3, ' in lines[3].rsplit('\r', 1)[-1] and lines[4] == ''
    assert loud['mIoU'] == quiet['mIoU']
