# Copyright (c) mmsim contributors. All rights reserved.
"""The replay's frozen-encoder columns: kNN and linear top-1 on the held-out
classification split; on the detection images' patches, the linear dense
probe and dense nearest-neighbour retrieval (the Hummingbird protocol, raw
and per-dimension standardised features), with its raw-pixel floor and
label-oracle ceiling; and the encoder alone as a ``backbone.*`` checkpoint
for the fine-tunes."""
import os.path as osp
from typing import Dict, Optional

import torch

NUM_CLASSES = 8
#: Detection images for the dense columns: memory / probe training set and
#: queries (the first this many of each split, by name).
DENSE_IMAGES = dict(train=400, val=200)
#: Dense retrieval's neighbours and softmax temperature (Hummingbird's).
RETRIEVAL = dict(k=30, temperature=0.02)
IGNORE_INDEX = 255


def classification_metrics(model: torch.nn.Module, cfg,
                           data_root: str) -> Dict[str, float]:
    """kNN and linear top-1 (%) of the frozen ``model`` (built by
    :func:`.rows.build_model`, with its config ``cfg``) on the val split of
    the classification images under ``data_root``."""
    from mmengine.runner import Runner

    from mmsim.evaluation import extract_pooled_features, knn_accuracy
    from mmsim.evaluation.logistic_regression import \
        logistic_regression_accuracy
    hook = next(h for h in cfg.custom_hooks if h.type == 'KNNMonitorHook')
    feats = {}
    for split in ('train', 'val'):
        hook[f'{split}_dataloader'].dataset.data_root = osp.join(data_root, '')
        loader = Runner.build_dataloader(hook[f'{split}_dataloader'])
        feats[split] = extract_pooled_features(model, loader)
    knn = knn_accuracy(*feats['train'], *feats['val'], NUM_CLASSES,
                       hook.get('k', 20), hook.get('temperature', 0.07))
    linear = logistic_regression_accuracy(*feats['train'], *feats['val'],
                                          NUM_CLASSES)
    return dict(knn=knn, linear=linear)


def dense_splits(det_root: str) -> list:
    """The train and val detection images with their label maps
    (:class:`~mmsim.evaluation.DenseProbeSet` each), read once for every
    row and the bounds."""
    from mmsim.evaluation import load_dense_probe_set
    return [
        load_dense_probe_set(
            osp.join(det_root, split),
            osp.join(det_root, 'labels', split),
            max_images=DENSE_IMAGES[split]) for split in ('train', 'val')
    ]


def dense_metrics(model: torch.nn.Module, splits: list) -> Dict[str, float]:
    """mIoU (%) of the frozen ``model``'s patch tokens on ``splits``
    (:func:`dense_splits`) over the 8 shapes and background: ``dense``
    (the linear dense probe), ``retrieval`` and ``retrieval_std`` (dense
    nearest-neighbour retrieval on raw and on standardised features); and
    ``grid``, the (h, w) patch grid. The patch tokens are extracted once
    for the three."""
    from mmsim.evaluation import (dense_probe_miou_of_features,
                                  extract_patch_features)
    train, val = splits
    feats = [extract_patch_features(model, s.images) for s in (train, val)]
    result = dict(
        dense=dense_probe_miou_of_features(
            feats[0],
            train.label_maps,
            feats[1],
            val.label_maps,
            NUM_CLASSES + 1,
            ignore_index=IGNORE_INDEX)['mIoU'])
    result.update(_retrieval(feats, train, val))
    result['grid'] = tuple(feats[0].shape[1:3])
    return result


def _retrieval(feats, train, val) -> Dict[str, float]:
    """Dense retrieval mIoU (%) of (train, val) patch features ((N, h, w,
    D) each): ``retrieval`` on them, ``retrieval_std`` standardised."""
    from mmsim.evaluation import retrieval_miou
    return {
        key:
        retrieval_miou(
            feats[0],
            train.label_maps,
            feats[1],
            val.label_maps,
            NUM_CLASSES + 1,
            standardise_features=standardise,
            ignore_index=IGNORE_INDEX,
            **RETRIEVAL)['mIoU']
        for key, standardise in (('retrieval', False), ('retrieval_std', True))
    }


def retrieval_bounds(splits: list, grid: tuple) -> Dict[str, float]:
    """Dense retrieval's floor (raw pixels of each patch as its feature,
    raw and standardised) and ceiling (each query patch given its own
    label histogram) on ``splits`` (:func:`dense_splits`), mIoU in %."""
    from mmsim.evaluation import oracle_miou, pixel_patch_features
    train, val = splits
    pixels = [pixel_patch_features(s.images, grid) for s in (train, val)]
    bounds = _retrieval(pixels, train, val)
    oracle = oracle_miou(val.label_maps, grid, NUM_CLASSES + 1,
                         IGNORE_INDEX)['mIoU']
    return dict(pixels=bounds, oracle=oracle)


def encoder_checkpoint(model: torch.nn.Module, path: str,
                       source: Optional[str]) -> str:
    """Write ``model``'s online encoder alone, as a ``backbone.*`` state
    dict, to ``path`` (``source``: the checkpoint it was loaded from, kept
    in ``meta``); returns ``path``.

    MAE's and MoCo v3's final LayerNorm (``backbone.ln1``) is dropped: the
    detection backbone, like SIM's encoder, has none.
    """
    state = {
        'backbone.' + k: v
        for k, v in model.backbone.state_dict().items()
        if not k.startswith('ln1.')
    }
    torch.save(dict(state_dict=state, meta=dict(source=source)), path)
    return path
