# Copyright (c) mmsim contributors. All rights reserved.
"""The quick start's detection step: SIM checkpoint -> ViTDet backbone ->
tiny Mask R-CNN fine-tuned and evaluated on the generated COCO set, on CPU.

The driver of ``tools/det_quickstart.py`` (and of the replay benchmark's
detection column). It lives in ``tools/``, not in the installed package,
because it reads its config from the repository it sits in
(:data:`TINY_CONFIG`). Import it with ``tools/`` on ``sys.path``::

    sys.path.insert(0, 'tools')
    from det_quickstart_lib import run_det_quickstart
"""
import json
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from mmsim.converters import (Conversion, convert_sim_to_vitdet,
                              load_state_dict, save_checkpoint)
from mmsim.converters.conversion import block_indices

#: The repository this file is in (``tools/..``).
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: The tiny CPU config, in the repository's ``configs`` folder.
TINY_CONFIG = osp.join(
    REPO, 'configs', 'benchmarks', 'mmdetection', 'coco',
    'mask-rcnn_sim-vit-tiny-p16_simple-fpn_1xb4-lsj128-600i_shapes.py')


def coco_classes(ann_file: str) -> Tuple[str, ...]:
    """Category names of a COCO annotation file, in category-id order."""
    with open(ann_file) as f:
        categories = json.load(f)['categories']
    return tuple(c['name'] for c in sorted(categories, key=lambda c: c['id']))


def num_heads_from_meta(checkpoint_path: str) -> Optional[int]:
    """Heads of the SIM backbone, read from the config mmengine saves in
    a checkpoint's ``meta['cfg']``.

    Args:
        checkpoint_path (str): An mmsim SIM checkpoint.

    Returns:
        int, optional: The heads; None when the checkpoint carries no
        readable config.
    """
    meta = torch.load(checkpoint_path, map_location='cpu').get('meta') or {}
    try:
        arch = Config.fromstring(meta['cfg'], '.py').model.backbone.arch
    except Exception:  # noqa: BLE001  (no or unreadable saved config)
        return None
    if isinstance(arch, str):
        from mmcls.models import VisionTransformer
        for names, spec in VisionTransformer.arch_zoo.items():
            if arch in names:
                return spec['num_heads']
        return None
    return arch.get('num_heads')


def backbone_arch(conversion: Conversion,
                  num_heads: Optional[int] = None) -> Dict[str, int]:
    """SIMViTDet arch of converted backbone tensors.

    Args:
        conversion (Conversion): Output of :func:`convert_sim_to_vitdet`.
        num_heads (int, optional): Attention heads (not visible in the
            tensors); defaults to one head per 64 channels.

    Returns:
        dict: ``arch`` plus ``patch_size`` and ``pretrain_img_size``.
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


def build_quickstart_config(data_root: str,
                            work_dir: str,
                            backbone_checkpoint: Optional[str] = None,
                            backbone: Optional[dict] = None,
                            max_iters: Optional[int] = None,
                            config: str = TINY_CONFIG,
                            seed: int = 0,
                            cfg_options: Optional[dict] = None) -> Config:
    """The tiny config pointed at a data folder and (optionally) at
    converted backbone weights.

    Args:
        data_root (str): Folder with ``train/``, ``val/`` and
            ``annotations/instances_{train,val}.json``.
        work_dir (str): Logs and checkpoints.
        backbone_checkpoint (str, optional): Converted SIMViTDet weights;
            None trains from random init.
        backbone (dict, optional): Backbone overrides (arch, patch size,
            pre-training size) matching the checkpoint.
        max_iters (int, optional): Training iterations; lr steps scale
            with it. Defaults to the config's.
        config (str): Config file. Defaults to :data:`TINY_CONFIG`.
        seed (int): Random seed. Defaults to 0.
        cfg_options (dict, optional): Merged into the config last.

    Returns:
        Config: Ready for ``Runner.from_cfg``.
    """
    cfg = Config.fromfile(config)
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

    if backbone:
        cfg.model.backbone.update(backbone)
        num_layers = cfg.model.backbone.arch['num_layers']
        if any(i >= num_layers
               for i in cfg.model.backbone.global_attn_indexes):
            cfg.model.backbone.global_attn_indexes = None  # spread evenly
        cfg.model.neck.in_channels = cfg.model.backbone.arch['embed_dims']
    cfg.model.backbone.init_cfg = None if backbone_checkpoint is None else \
        dict(type='Pretrained', checkpoint=backbone_checkpoint)

    if max_iters is not None:
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
    # No validation during training: run_det_quickstart evaluates once,
    # after it, through the test loop (same data and CocoMetric).
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def run_det_quickstart(data_root: str,
                       work_dir: str,
                       sim_checkpoint: Optional[str] = None,
                       max_iters: Optional[int] = None,
                       num_heads: Optional[int] = None,
                       config: str = TINY_CONFIG,
                       seed: int = 0,
                       cfg_options: Optional[dict] = None,
                       arch_from: Optional[str] = None) -> Dict[str, float]:
    """Fine-tune the tiny Mask R-CNN from a SIM checkpoint (or random
    init) on a COCO-format set with mmdet's runner, then evaluate it with
    mmdet's ``CocoMetric``.

    Args:
        data_root (str): The generated set's ``det`` folder.
        work_dir (str): Output folder (converted weights, logs, model).
        sim_checkpoint (str, optional): An mmsim SIM checkpoint; None
            trains from random init.
        max_iters (int, optional): Training iterations. Defaults to the
            config's 200.
        num_heads (int, optional): Heads of the SIM backbone when its
            checkpoint does not carry its config.
        config (str): Detection config. Defaults to :data:`TINY_CONFIG`.
        seed (int): Random seed. Defaults to 0.
        cfg_options (dict, optional): Config overrides, merged last.
        arch_from (str, optional): Without ``sim_checkpoint``: a SIM
            checkpoint whose backbone arch (not weights) the random-init
            backbone takes, so that the two compare the same detector.

    Returns:
        dict[str, float]: mmdet's COCO metrics, e.g. ``coco/bbox_mAP`` and
        ``coco/segm_mAP``.
    """
    from mmengine.runner import Runner

    backbone_checkpoint, backbone = None, None
    if sim_checkpoint is not None:
        conversion = convert_sim_to_vitdet(load_state_dict(sim_checkpoint))
        print(conversion.summary(verbose=False))
        backbone_checkpoint = osp.join(work_dir, 'sim_vitdet_backbone.pth')
        save_checkpoint(
            conversion.state_dict,
            backbone_checkpoint,
            meta=dict(converted_from=sim_checkpoint))
        backbone = backbone_arch(
            conversion, num_heads or num_heads_from_meta(sim_checkpoint))
    elif arch_from is not None:
        backbone = backbone_arch(
            convert_sim_to_vitdet(load_state_dict(arch_from)),
            num_heads or num_heads_from_meta(arch_from))
    cfg = build_quickstart_config(data_root, work_dir, backbone_checkpoint,
                                  backbone, max_iters, config, seed,
                                  cfg_options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.test()


def format_metrics(
    results: Dict[str, Dict[str, float]],
    keys: Sequence[str] = ('bbox_mAP', 'bbox_mAP_50', 'segm_mAP',
                           'segm_mAP_50')
) -> str:
    """A markdown table of COCO metrics, one row per run."""
    lines = [
        '| init | ' + ' | '.join(keys) + ' |', '|---|' + '---|' * len(keys)
    ]
    for name, metrics in results.items():
        values = [
            f'{100 * metrics.get("coco/" + k, float("nan")):.1f}' for k in keys
        ]
        lines.append(f'| {name} | ' + ' | '.join(values) + ' |')
    return '\n'.join(lines)


__all__ = [
    'TINY_CONFIG', 'coco_classes', 'backbone_arch', 'build_quickstart_config',
    'run_det_quickstart', 'format_metrics'
]
