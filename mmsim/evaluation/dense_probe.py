# Copyright (c) mmsim contributors. All rights reserved.
"""Dense linear probe: how much of a per-pixel class map a frozen
encoder's patch tokens carry.

A cheap measure of the "spatial sensitivity" SIM argues about (a method
that only matches global views can give every patch the image's feature):
each patch token of the frozen backbone is classified on its own by one
linear classifier (the same for all patches), trained on labelled images,
and scored by the mean IoU of the patch predictions on held-out images.
A patch's label is the class covering its centre pixel (0 = background).

The data are a folder of images and a folder of single-channel label PNGs
with the same stems (mmseg's ``img_dir`` / ``ann_dir`` layout), e.g. the
generated set's ``det/train`` and ``det/labels/train``
(:func:`mmsim.datasets.generate_shapes_dataset`).
"""
from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmengine import dist
from mmengine.model import is_model_wrapper

from .dense_probe_set import DenseProbeSet
from .feature_extraction import (backbone_feature_map, gather_padded,
                                 get_backbone, normalise_images)
from .logistic_regression import (fit_logistic_regression,
                                  predict_logistic_regression)
from .progress import RankZeroProgress


def patch_centre_labels(label_maps: torch.Tensor,
                        grid: Tuple[int, int]) -> torch.Tensor:
    """The class at the centre pixel of every patch.

    Args:
        label_maps (torch.Tensor): (N, H, W) integer labels.
        grid (tuple[int, int]): Patch grid (h, w) over the image.

    Returns:
        torch.Tensor: (N, h, w) labels, pixel ``floor((i + 0.5) * H / h)``
        of row ``i`` (and the same for columns).
    """
    height, width = label_maps.shape[-2:]
    rows = ((torch.arange(grid[0]) + 0.5) * height / grid[0]).long()
    cols = ((torch.arange(grid[1]) + 0.5) * width / grid[1]).long()
    return label_maps[:, rows][:, :, cols]


@torch.no_grad()
def extract_patch_features(model: nn.Module,
                           images: torch.Tensor,
                           backbone_name: str = 'backbone',
                           batch_size: int = 64,
                           progress: bool = False) -> torch.Tensor:
    """Frozen patch features of raw images, through the model's own data
    preprocessor. Under DDP each process encodes every ``world_size``-th
    image and the shards are gathered, so all ranks return the same tensor.

    Args:
        model (nn.Module): An mmengine model (DDP-wrapped or not) with a
            ``data_preprocessor`` and its backbone at ``backbone_name``.
        images (torch.Tensor): (N, 3, H, W) uint8 BGR images.
        backbone_name (str): Dotted path of the backbone. Defaults to
            ``'backbone'``.
        batch_size (int): Images per forward. Defaults to 64.
        progress (bool): Print a ``done/total`` bar with an ETA on rank 0
            (of its own images under DDP). Defaults to False.

    Returns:
        torch.Tensor: (N, h, w, C) float32 features on the CPU.
    """
    if is_model_wrapper(model):
        model = model.module
    backbone = get_backbone(model, backbone_name)
    rank, world_size = dist.get_rank(), dist.get_world_size()
    own = torch.arange(rank, images.shape[0], world_size)
    was_training = backbone.training
    backbone.eval()
    feats = []
    bar = RankZeroProgress(
        len(own), progress, desc=f'patch features of {len(own)} images')
    try:
        for start in range(0, len(own), batch_size):
            batch = model.data_preprocessor.cast_data(
                dict(inputs=images[own[start:start + batch_size]]))
            maps = backbone_feature_map(backbone,
                                        normalise_images(model, batch))
            feats.append(maps.permute(0, 2, 3, 1).cpu())
            bar.update(maps.shape[0])
    finally:
        bar.close()
        backbone.train(was_training)
    if not feats:  # more ranks than images
        raise ValueError(f'dense probe: {images.shape[0]} images for '
                         f'{world_size} processes')
    feats = torch.cat(feats)
    if world_size == 1:
        return feats
    device = dist.get_comm_device()
    feats, own = (gather_padded(t.to(device)).cpu() for t in (feats, own))
    return feats[own.argsort()]


def confusion_matrix(pred: torch.Tensor,
                     target: torch.Tensor,
                     num_classes: int,
                     ignore_index: int = 255) -> torch.Tensor:
    """(C, C) counts, rows = target class, columns = predicted class.

    Args:
        pred (torch.Tensor): Predicted labels, any shape.
        target (torch.Tensor): True labels, same shape; ``ignore_index``
            entries are left out.
        num_classes (int): Number of classes C.
        ignore_index (int): Label to ignore. Defaults to 255.

    Returns:
        torch.Tensor: (C, C) int64 counts.
    """
    pred, target = pred.reshape(-1).long(), target.reshape(-1).long()
    keep = target != ignore_index
    pred, target = pred[keep], target[keep]
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(f'labels must lie in [0, {num_classes}) or be '
                         f'{ignore_index}, got range [{int(target.min())}, '
                         f'{int(target.max())}]')
    return torch.bincount(
        target * num_classes + pred,
        minlength=num_classes**2).reshape(num_classes, num_classes)


def mean_iou(confusion: torch.Tensor) -> Tuple[float, torch.Tensor]:
    """Mean IoU (%) of a confusion matrix, over the classes that occur in
    the target or the prediction (mmseg's ``nanmean`` convention).

    Args:
        confusion (torch.Tensor): (C, C) counts from
            :func:`confusion_matrix`.

    Returns:
        tuple[float, torch.Tensor]: mIoU in percent and the (C,) per-class
        IoU in percent (NaN for classes that occur nowhere).
    """
    confusion = confusion.double()
    hits = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) - hits
    iou = torch.where(union > 0, hits / union.clamp(min=1),
                      torch.full_like(hits, float('nan'))) * 100
    return float(iou.nanmean()), iou.float()


def dense_probe_miou(model: nn.Module,
                     train_set: DenseProbeSet,
                     val_set: DenseProbeSet,
                     num_classes: int,
                     backbone_name: str = 'backbone',
                     l2: float = 0.1,
                     max_iter: int = 300,
                     ignore_index: int = 255,
                     progress: bool = False) -> Dict[str, object]:
    """Train the per-patch linear classifier on ``train_set``'s patch
    tokens, score it on ``val_set``.

    The patch tokens come from :func:`extract_patch_features`; the probe
    is :func:`dense_probe_miou_of_features`.

    Args:
        model (nn.Module): mmengine model with ``data_preprocessor``.
        train_set (DenseProbeSet): Images and label maps to fit on.
        val_set (DenseProbeSet): Held-out images and label maps.
        num_classes (int): Classes including background (0).
        backbone_name (str): Dotted path of the backbone. Defaults to
            ``'backbone'``.
        l2 (float): L2 penalty of the logistic regression. Defaults to 0.1.
        max_iter (int): L-BFGS iterations at most. Defaults to 300.
        ignore_index (int): Label left out of fitting and scoring.
            Defaults to 255.
        progress (bool): Progress bars of the feature extraction (see
            :func:`extract_patch_features`). Defaults to False.

    Returns:
        dict: ``mIoU`` (float, %), ``IoU`` ((C,) tensor, %), ``confusion``
        ((C, C) tensor over val patches), ``grid`` ((h, w)).
    """
    check_label_range(train_set.label_maps, val_set.label_maps, num_classes,
                      ignore_index)
    feats = [
        extract_patch_features(
            model, data.images, backbone_name, progress=progress)
        for data in (train_set, val_set)
    ]
    return dense_probe_miou_of_features(feats[0], train_set.label_maps,
                                        feats[1], val_set.label_maps,
                                        num_classes, l2, max_iter,
                                        ignore_index)


def check_label_range(train_maps: torch.Tensor, val_maps: torch.Tensor,
                      num_classes: int, ignore_index: int) -> None:
    """Raise a ValueError naming the split if a label map ((N, H, W)
    each) holds a class outside ``[0, num_classes)`` that is not
    ``ignore_index``."""
    for split, maps in (('train', train_maps), ('val', val_maps)):
        bad = maps[(maps != ignore_index)
                   & ((maps < 0) | (maps >= num_classes))]
        if bad.numel():
            raise ValueError(f'dense probe: the {split} label maps hold '
                             f'class {int(bad[0])}, outside [0, '
                             f'{num_classes}) and not {ignore_index}: set '
                             'num_classes (background included)')


def dense_probe_miou_of_features(train_feats: torch.Tensor,
                                 train_maps: torch.Tensor,
                                 val_feats: torch.Tensor,
                                 val_maps: torch.Tensor,
                                 num_classes: int,
                                 l2: float = 0.1,
                                 max_iter: int = 300,
                                 ignore_index: int = 255) -> Dict[str, object]:
    """The dense probe on patch features already extracted (for a caller
    that reads the same features in other ways too).

    The classifier is :func:`fit_logistic_regression` with an intercept on
    row-normalised features (centred, unit L2 norm), deterministic.

    Args:
        train_feats (torch.Tensor): (N, h, w, D) patch features to fit on.
        train_maps (torch.Tensor): (N, H, W) their label maps.
        val_feats (torch.Tensor): (M, h, w, D) held-out patch features.
        val_maps (torch.Tensor): (M, H, W) their label maps.
        num_classes (int): Classes including background (0).
        l2 (float): L2 penalty. Defaults to 0.1.
        max_iter (int): L-BFGS iterations at most. Defaults to 300.
        ignore_index (int): Label left out of fitting and scoring.
            Defaults to 255.

    Returns:
        dict: As :func:`dense_probe_miou`.
    """
    check_label_range(train_maps, val_maps, num_classes, ignore_index)
    if train_feats.shape[1:3] != val_feats.shape[1:3]:
        raise ValueError('dense probe: train and val patch grids differ: '
                         f'{tuple(train_feats.shape[1:3])} and '
                         f'{tuple(val_feats.shape[1:3])}')
    grid = tuple(train_feats.shape[1:3])
    feats, labels = {}, {}
    for split, maps, label_maps in (('train', train_feats, train_maps),
                                    ('val', val_feats, val_maps)):
        feats[split] = maps.reshape(-1, maps.shape[-1])
        labels[split] = patch_centre_labels(label_maps, grid).reshape(-1)
    keep = labels['train'] != ignore_index
    classifier = fit_logistic_regression(
        feats['train'][keep],
        labels['train'][keep],
        num_classes,
        l2=l2,
        max_iter=max_iter,
        fit_intercept=True)
    pred = predict_logistic_regression(classifier, feats['val'])
    confusion = confusion_matrix(pred.cpu(), labels['val'], num_classes,
                                 ignore_index)
    miou, iou = mean_iou(confusion)
    return dict(mIoU=miou, IoU=iou, confusion=confusion, grid=grid)
