# Copyright (c) mmsim contributors. All rights reserved.
"""SIM encoders into the ``SIMViTDet`` detection backbone (ViTDet's Mask
R-CNN through mmdet): the converters, the backbone arch read from the
converted tensors, the metrics and the fine-tune config's adaptation.

Pure PyTorch and the standard library: nothing here imports mmdet. The
config functions edit an mmengine ``Config`` they are given.
"""
import json
import os.path as osp
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import torch

from .conversion import Conversion, block_indices
from .encoder import select_encoder

if TYPE_CHECKING:
    from mmengine.config import Config

#: mmdet ``CocoMetric`` results of the table, without their ``coco/``
#: prefix (fractions; the table shows percentages).
METRIC_KEYS = ('bbox_mAP', 'bbox_mAP_50', 'segm_mAP', 'segm_mAP_50')


def convert_sim_to_vitdet(state_dict: Dict[str, torch.Tensor]) -> Conversion:
    """Keep the online encoder of an mmsim ``SIM`` checkpoint, in the keys
    of the ``SIMViTDet`` detection backbone.

    ``backbone.X`` becomes ``X`` (a prefix filter: both are mmcls ViTs);
    the cls token, the momentum target (``target.*``), the neck and head
    are dropped. The position embedding keeps its (1, 1 + G * G, C)
    pre-training grid; ``SIMViTDet`` resizes it to its inputs.

    Args:
        state_dict (dict[str, torch.Tensor]): A ``SIM`` model's state dict.

    Returns:
        Conversion: Backbone tensors, without the ``backbone.`` prefix.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present.
    """
    return select_encoder(state_dict, 'sim', keep_cls_token=False)


def convert_release_to_vitdet(
        state_dict: Dict[str, torch.Tensor]) -> Conversion:
    """Keep the online encoder of the authors' released SIM checkpoint,
    in the keys of the ``SIMViTDet`` detection backbone.

    ``patch_embed.proj`` -> ``patch_embed.projection``, ``blocks.{i}.
    norm1|norm2`` -> ``layers.{i}.ln1|ln2``, ``mlp.fc1|fc2`` ->
    ``ffn.layers.0.0|ffn.layers.1``, ``attn.*`` and ``pos_embed`` (1, 1 +
    G * G, C) unchanged. Dropped: ``cls_token``, the target (``mm_*``),
    projector and predictor.

    Args:
        state_dict (dict[str, torch.Tensor]): The release's ``model`` dict.

    Returns:
        Conversion: Backbone tensors.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present.
    """
    return select_encoder(state_dict, 'release', keep_cls_token=False)


def backbone_arch(conversion: Conversion,
                  num_heads: Optional[int] = None) -> Dict[str, Any]:
    """SIMViTDet arch of converted backbone tensors.

    Args:
        conversion (Conversion): Output of :func:`convert_sim_to_vitdet`:
            ``pos_embed`` (1, 1 + G * G, C), ``patch_embed.projection.
            weight`` (C, 3, P, P), ``layers.{i}.ffn.layers.0.0.weight``
            (F, C).
        num_heads (int, optional): Attention heads (not visible in the
            tensors); defaults to one head per 64 channels.

    Returns:
        dict: ``arch`` (``embed_dims`` C, ``num_layers``, ``num_heads``,
        ``feedforward_channels`` F) plus ``patch_size`` P and
        ``pretrain_img_size`` G * P.

    Raises:
        ValueError: When the patch is not 16 (the detection configs'
            stride).
    """
    state = conversion.state_dict
    embed_dims = state['pos_embed'].shape[-1]
    grid = int(round((state['pos_embed'].shape[1] - 1)**0.5))
    patch_size = state['patch_embed.projection.weight'].shape[-1]
    if patch_size != 16:
        raise ValueError('the detection configs assume a stride-16 ViT '
                         f'(patch 16); the checkpoint has patch {patch_size}')
    return dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=len(block_indices(state, 'layers.')),
            num_heads=num_heads or max(1, embed_dims // 64),
            feedforward_channels=state['layers.0.ffn.layers.0.0.weight'].
            shape[0]),
        patch_size=patch_size,
        pretrain_img_size=grid * patch_size)


def coco_classes(ann_file: str) -> Tuple[str, ...]:
    """Category names of a COCO annotation file, in category-id order."""
    with open(ann_file) as f:
        categories = json.load(f)['categories']
    return tuple(c['name'] for c in sorted(categories, key=lambda c: c['id']))


def adapt_data(cfg: 'Config', data_root: str) -> None:
    """Point a detection config at a COCO-format folder, with its classes
    (read from the annotations) in the datasets and the heads.

    Args:
        cfg (Config): Edited in place.
        data_root (str): ``train/``, ``val/`` and
            ``annotations/instances_{train,val}.json``.
    """
    classes = coco_classes(
        osp.join(data_root, 'annotations', 'instances_train.json'))
    data_root = osp.join(data_root, '')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].dataset.metainfo = dict(classes=classes)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = osp.join(data_root, 'annotations',
                                           'instances_val.json')
    cfg.model.roi_head.bbox_head.num_classes = len(classes)
    cfg.model.roi_head.mask_head.num_classes = len(classes)


def adapt_backbone(cfg: 'Config', backbone: Dict[str, Any]) -> None:
    """Give the config's backbone the arch of :func:`backbone_arch`; the
    global-attention blocks are spread evenly when the configured ones
    do not exist at that depth, and the neck takes its width.

    Args:
        cfg (Config): Edited in place.
        backbone (dict): What :func:`backbone_arch` returns.
    """
    cfg.model.backbone.update(backbone)
    num_layers = cfg.model.backbone.arch['num_layers']
    if any(i >= num_layers for i in cfg.model.backbone.global_attn_indexes):
        cfg.model.backbone.global_attn_indexes = None  # spread evenly
    cfg.model.neck.in_channels = cfg.model.backbone.arch['embed_dims']


def adapt_schedule(cfg: 'Config', max_iters: int) -> None:
    """Train ``max_iters`` iterations: the lr steps scale with them, the
    warm-up keeps its length (at most a tenth of the run), one checkpoint
    at the end.

    Args:
        cfg (Config): Edited in place.
        max_iters (int): Training iterations.
    """
    old = cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = max_iters
    for scheduler in cfg.param_scheduler:
        if 'milestones' in scheduler:
            scheduler.milestones = [
                max(1, m * max_iters // old) for m in scheduler.milestones
            ]
            scheduler.end = max_iters
        else:
            scheduler.end = min(scheduler.end, max(1, max_iters // 10))
    cfg.default_hooks.checkpoint.interval = max_iters


__all__ = [
    'METRIC_KEYS', 'convert_sim_to_vitdet', 'convert_release_to_vitdet',
    'backbone_arch', 'coco_classes', 'adapt_data', 'adapt_backbone',
    'adapt_schedule'
]
