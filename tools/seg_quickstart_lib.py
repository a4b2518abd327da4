# Copyright (c) mmsim contributors. All rights reserved.
"""The quick start's segmentation step: SIM checkpoint -> mmseg's ``MAE``
backbone -> tiny UperNet fine-tuned and evaluated on the generated label
maps, on CPU.

The driver of ``tools/seg_quickstart.py``. It lives in ``tools/``, not in
the installed package, because it reads its config from the repository it
sits in (:data:`TINY_CONFIG`) and because only the segmentation side may
import mmseg. Import it with ``tools/`` on ``sys.path``::

    sys.path.insert(0, 'tools')
    from seg_quickstart_lib import run_seg_quickstart
"""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

from mmsim.converters import (Conversion, convert_sim_to_mmseg,
                              load_state_dict, save_checkpoint)
from mmsim.converters.conversion import block_indices

from det_quickstart_lib import num_heads_from_meta

#: The repository this file is in (``tools/..``).
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: The tiny CPU config, in the repository's ``configs`` folder.
TINY_CONFIG = osp.join(REPO, 'configs', 'benchmarks', 'mmsegmentation',
                       'shapes',
                       'upernet_sim-vit-tiny-p16_1xb8-300i_shapes-128x128.py')
#: The metrics of mmseg's ``IoUMetric`` (percentages), in table order.
METRIC_KEYS = ('mIoU', 'aAcc', 'mAcc')


def spread_out_indices(num_layers: int) -> List[int]:
    """Four blocks whose outputs feed the 4-level pyramid, spread over
    the depth: block ``round(k * L / 4)`` (1-based) for k = 1..4.

    Gives ``[1, 2, 3, 5]`` for the 6-block tiny ViT (the recipe's blocks
    4, 6, 8, 12 of 12, 1-based, at half the depth).

    Args:
        num_layers (int): Blocks L of the backbone.

    Returns:
        list[int]: Four distinct 0-based block indices, the last block
        included.

    Raises:
        ValueError: When ``num_layers < 4`` (fewer blocks than levels).
    """
    if num_layers < 4:
        raise ValueError('the UperNet pyramid takes 4 block outputs; the '
                         f'backbone has {num_layers} blocks (expected >= 4)')
    return [round(k * num_layers / 4) - 1 for k in (1, 2, 3, 4)]


def backbone_settings(conversion: Conversion,
                      num_heads: Optional[int] = None) -> Dict[str, int]:
    """mmseg ``MAE`` settings of converted backbone tensors.

    Args:
        conversion (Conversion): Output of :func:`convert_sim_to_mmseg`.
        num_heads (int, optional): Attention heads (not visible in the
            tensors). Defaults to one head per 64 channels.

    Returns:
        dict: ``embed_dims``, ``num_layers``, ``num_heads``, ``mlp_ratio``
        and ``patch_size``.

    Raises:
        ValueError: When the FFN width is not a multiple of the embedding
            width (``MAE`` takes an integer ``mlp_ratio``).
    """
    state = conversion.state_dict
    embed_dims = state['pos_embed'].shape[-1]
    ffn = state['layers.0.ffn.layers.0.0.weight'].shape[0]
    if ffn % embed_dims:
        raise ValueError(f'the FFN width {ffn} is not a multiple of the '
                         f'embedding width {embed_dims}: mmseg MAE takes an '
                         'integer mlp_ratio')
    return dict(
        embed_dims=embed_dims,
        num_layers=len(block_indices(state, 'layers.')),
        num_heads=num_heads or max(1, embed_dims // 64),
        mlp_ratio=ffn // embed_dims,
        patch_size=state['patch_embed.projection.weight'].shape[-1])


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
        data_root (str): Folder with ``train/`` and ``val/`` images and
            their label maps in ``labels/train/`` and ``labels/val/``.
        work_dir (str): Logs and checkpoints.
        backbone_checkpoint (str, optional): Converted ``MAE`` weights;
            None keeps mmseg's ``MAE`` initialisation.
        backbone (dict, optional): ``MAE`` overrides (widths, depth, heads,
            patch) matching the checkpoint; the neck, the heads, the
            layer decay and, for another depth, the pyramid's blocks
            follow.
        max_iters (int, optional): Training iterations; the warm-up keeps
            its share of them. Defaults to the config's.
        config (str): Config file. Defaults to :data:`TINY_CONFIG`.
        seed (int): Random seed. Defaults to 0.
        cfg_options (dict, optional): Merged into the config last.

    Returns:
        Config: Ready for ``Runner.from_cfg``.
    """
    cfg = Config.fromfile(config)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root

    if backbone:
        old_layers = cfg.model.backbone.num_layers
        cfg.model.backbone.update(backbone)
        embed_dims = cfg.model.backbone.embed_dims
        num_layers = cfg.model.backbone.num_layers
        if num_layers != old_layers:
            cfg.model.backbone.out_indices = spread_out_indices(num_layers)
        cfg.model.neck.embed_dim = embed_dims
        cfg.model.decode_head.in_channels = [embed_dims] * len(
            cfg.model.backbone.out_indices)
        cfg.model.auxiliary_head.in_channels = embed_dims
        cfg.optim_wrapper.paramwise_cfg.num_layers = num_layers
    cfg.model.backbone.init_cfg = None if backbone_checkpoint is None else \
        dict(type='Pretrained', checkpoint=backbone_checkpoint)

    if max_iters is not None:
        warmup, decay = cfg.param_scheduler
        old = cfg.train_cfg.max_iters
        cfg.train_cfg.max_iters = max_iters
        warmup.end = decay.begin = max(1, warmup.end * max_iters // old)
        decay.end = max(decay.begin + 1, max_iters)
        cfg.default_hooks.checkpoint.interval = max_iters
    # No validation during training: run_seg_quickstart evaluates once,
    # after it, through the test loop (same data and IoUMetric).
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def run_seg_quickstart(data_root: str,
                       work_dir: str,
                       sim_checkpoint: Optional[str] = None,
                       max_iters: Optional[int] = None,
                       num_heads: Optional[int] = None,
                       config: str = TINY_CONFIG,
                       seed: int = 0,
                       cfg_options: Optional[dict] = None,
                       arch_from: Optional[str] = None) -> Dict[str, float]:
    """Fine-tune the tiny UperNet from a SIM checkpoint (or mmseg's
    ``MAE`` initialisation) with mmseg's runner, then evaluate it with
    mmseg's ``IoUMetric``.

    Args:
        data_root (str): The generated set's ``det`` folder.
        work_dir (str): Output folder (converted weights, logs, model).
        sim_checkpoint (str, optional): An mmsim SIM checkpoint; None
            trains from random init.
        max_iters (int, optional): Training iterations. Defaults to the
            config's 300.
        num_heads (int, optional): Heads of the SIM backbone when its
            checkpoint does not carry its config.
        config (str): Segmentation config. Defaults to :data:`TINY_CONFIG`.
        seed (int): Random seed. Defaults to 0.
        cfg_options (dict, optional): Config overrides, merged last.
        arch_from (str, optional): Without ``sim_checkpoint``: a SIM
            checkpoint whose backbone arch (not weights) the random-init
            backbone takes, so that the two compare the same segmentor.

    Returns:
        dict[str, float]: mmseg's ``aAcc``, ``mIoU`` and ``mAcc`` (%) on
        the validation split.
    """
    from mmengine.runner import Runner

    backbone_checkpoint, backbone = None, None
    if sim_checkpoint is not None:
        conversion = convert_sim_to_mmseg(load_state_dict(sim_checkpoint))
        print(conversion.summary(verbose=False))
        backbone_checkpoint = osp.join(work_dir, 'sim_mmseg_backbone.pth')
        save_checkpoint(
            conversion.state_dict,
            backbone_checkpoint,
            meta=dict(converted_from=sim_checkpoint))
        backbone = backbone_settings(
            conversion, num_heads or num_heads_from_meta(sim_checkpoint))
    elif arch_from is not None:
        conversion = convert_sim_to_mmseg(load_state_dict(arch_from))
        backbone = backbone_settings(
            conversion, num_heads or num_heads_from_meta(arch_from))
    cfg = build_quickstart_config(data_root, work_dir, backbone_checkpoint,
                                  backbone, max_iters, config, seed,
                                  cfg_options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.test()


def format_metrics(results: Dict[str, Dict[str, float]],
                   keys: Sequence[str] = METRIC_KEYS) -> str:
    """A markdown table of ``IoUMetric`` results (%), one row per run.

    Args:
        results (dict[str, dict[str, float]]): Metrics by run name.
        keys (Sequence[str]): Columns. Defaults to :data:`METRIC_KEYS`.

    Returns:
        str: The table; a missing metric shows as ``nan``.
    """
    lines = [
        '| init | ' + ' | '.join(keys) + ' |', '|---|' + '---|' * len(keys)
    ]
    for name, metrics in results.items():
        values = [f'{metrics.get(k, math.nan):.1f}' for k in keys]
        lines.append(f'| {name} | ' + ' | '.join(values) + ' |')
    return '\n'.join(lines)


__all__ = [
    'TINY_CONFIG', 'METRIC_KEYS', 'num_heads_from_meta', 'spread_out_indices',
    'backbone_settings', 'build_quickstart_config', 'run_seg_quickstart',
    'format_metrics'
]
