# Copyright (c) mmsim contributors. All rights reserved.
"""The one fine-tune driver: a SIM checkpoint (or none) -> the task's
backbone weights -> its config adapted -> mmengine's ``Runner`` trains and
tests; several runs one after another or in spawned processes at once,
each run's lines labelled with its name.

mmdet and mmseg are reached only through the config (its
``custom_imports`` and ``default_scope``), config paths are the caller's:
the tools and benchmarks pass the repository's, the tests their own.
"""
import json
import multiprocessing
import os
import os.path as osp
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Dict, Optional

import torch
from mmengine.config import Config

from .checkpoint_io import load_state_dict, read_checkpoint, save_checkpoint
from .labelled_output import labelled_output
from .tasks import get_task
from .worker_lifetime import die_with_parent


def num_heads_from_meta(checkpoint_path: str) -> Optional[int]:
    """Heads of the SIM backbone, read from the config mmengine saves in
    a checkpoint's ``meta['cfg']``.

    Args:
        checkpoint_path (str): An mmsim SIM checkpoint.

    Returns:
        int, optional: The heads; None when the checkpoint carries no
        readable config.
    """
    checkpoint = read_checkpoint(checkpoint_path)
    meta = (checkpoint.get('meta')
            if isinstance(checkpoint, dict) else None) or {}
    try:
        arch = Config.fromstring(meta['cfg'], '.py').model.backbone.arch
    except Exception:  # noqa: BLE001  (no or unreadable saved config)
        return None
    if isinstance(arch, str):
        from ..hosts import host
        for names, spec in host().VisionTransformer.arch_zoo.items():
            if arch in names:
                return spec['num_heads']
        return None
    return arch.get('num_heads')


def build_finetune_config(task: str,
                          config: str,
                          data_root: str,
                          work_dir: str,
                          backbone_checkpoint: Optional[str] = None,
                          backbone: Optional[Dict[str, Any]] = None,
                          max_iters: Optional[int] = None,
                          seed: int = 0,
                          cfg_options: Optional[dict] = None) -> Config:
    """A task's config pointed at a data folder and (optionally) at
    converted backbone weights, evaluated once after training.

    Args:
        task (str): ``'det'`` or ``'seg'``.
        config (str): The task's config file.
        data_root (str): The data (a COCO-format folder for ``'det'``,
            images with ``labels/`` maps for ``'seg'``).
        work_dir (str): Logs and checkpoints.
        backbone_checkpoint (str, optional): Converted backbone weights;
            None keeps the backbone's own initialisation.
        backbone (dict, optional): Backbone settings of those weights
            (the task's ``backbone`` of their conversion).
        max_iters (int, optional): Training iterations; the schedule
            follows. Defaults to the config's.
        seed (int): Random seed. Defaults to 0.
        cfg_options (dict, optional): Merged into the config last.

    Returns:
        Config: Ready for ``Runner.from_cfg``.
    """
    spec = get_task(task)
    cfg = Config.fromfile(config)
    spec.adapt_data(cfg, data_root)
    if backbone:
        spec.adapt_backbone(cfg, backbone)
    cfg.model.backbone.init_cfg = None if backbone_checkpoint is None else \
        dict(type='Pretrained', checkpoint=backbone_checkpoint)
    if max_iters is not None:
        spec.adapt_schedule(cfg, max_iters)
    # No validation during training: run_finetune evaluates once, after
    # it, through the test loop (same data and metric).
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def run_finetune(task: str,
                 config: str,
                 data_root: str,
                 work_dir: str,
                 sim_checkpoint: Optional[str] = None,
                 max_iters: Optional[int] = None,
                 num_heads: Optional[int] = None,
                 seed: int = 0,
                 cfg_options: Optional[dict] = None,
                 arch_from: Optional[str] = None,
                 metrics_file: Optional[str] = None) -> Dict[str, float]:
    """Fine-tune a task's model from a SIM checkpoint (or the backbone's
    own initialisation) with mmengine's runner, then test it.

    Args:
        task (str): ``'det'`` or ``'seg'``.
        config (str): The task's config file.
        data_root (str): The data (see :func:`build_finetune_config`).
        work_dir (str): Output folder (converted weights, logs, model).
        sim_checkpoint (str, optional): An mmsim SIM checkpoint; None
            trains from the backbone's own initialisation.
        max_iters (int, optional): Training iterations. Defaults to the
            config's.
        num_heads (int, optional): Heads of the SIM backbone when its
            checkpoint does not carry its config.
        seed (int): Random seed. Defaults to 0.
        cfg_options (dict, optional): Config overrides, merged last.
        arch_from (str, optional): Without ``sim_checkpoint``: a SIM
            checkpoint whose backbone arch (not weights) the backbone
            takes, so that the runs compare the same model.
        metrics_file (str, optional): Where to write the test metrics as
            JSON when the run ends (atomically: a killed run leaves none),
            for drivers that resume a batch of runs.

    Returns:
        dict[str, float]: The test metrics (e.g. ``coco/bbox_mAP``,
        ``mIoU``).
    """
    from mmengine.runner import Runner

    spec = get_task(task)
    backbone_checkpoint, backbone = None, None
    if sim_checkpoint is not None:
        conversion = spec.convert(load_state_dict(sim_checkpoint))
        print(conversion.summary(verbose=False))
        backbone_checkpoint = osp.join(work_dir, spec.backbone_file)
        save_checkpoint(
            conversion.state_dict,
            backbone_checkpoint,
            meta=dict(converted_from=sim_checkpoint))
        backbone = spec.backbone(
            conversion, num_heads or num_heads_from_meta(sim_checkpoint))
    elif arch_from is not None:
        backbone = spec.backbone(
            spec.convert(load_state_dict(arch_from)), num_heads
            or num_heads_from_meta(arch_from))
    cfg = build_finetune_config(task, config, data_root, work_dir,
                                backbone_checkpoint, backbone, max_iters, seed,
                                cfg_options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    if metrics_file is not None:
        partial = metrics_file + '.part'
        with open(partial, 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f)
        os.replace(partial, metrics_file)
    return metrics


def _labelled_finetune(name: str, num_threads: Optional[int],
                       kwargs: Dict[str, Any]) -> Dict[str, float]:
    """One run of :func:`run_finetunes`, its lines prefixed ``[name] ``
    (top-level: a spawned process unpickles it)."""
    if num_threads:
        torch.set_num_threads(num_threads)
    with labelled_output(name):
        metrics = run_finetune(**kwargs)
    return {k: float(v) for k, v in metrics.items()}


def run_finetunes(task: str,
                  config: str,
                  runs: Dict[str, Dict[str, Any]],
                  workers: int = 1,
                  num_threads: Optional[int] = None,
                  **common: Any) -> Dict[str, Dict[str, float]]:
    """Several :func:`run_finetune` runs of one task and config, every
    line each prints prefixed with its name (``[SIM] ...``).

    Args:
        task (str): ``'det'`` or ``'seg'``.
        config (str): The task's config file.
        runs (dict[str, dict]): Run name -> its own :func:`run_finetune`
            arguments (e.g. ``work_dir``, ``sim_checkpoint``,
            ``arch_from``), in the order of the results.
        workers (int): Runs at once, each in a spawned process of
            ``num_threads`` (default 1) torch threads; 1 runs them one
            after another in this process. Defaults to 1.
        num_threads (int, optional): Torch threads per run; None leaves
            this process's setting when sequential.
        **common: :func:`run_finetune` arguments shared by every run
            (``data_root``, ``max_iters``, ``seed``, ...).

    Returns:
        dict[str, dict[str, float]]: The metrics by run name.
    """
    get_task(task)  # an unknown task fails here, not in a child process
    jobs = {
        name: dict(common, task=task, config=config, **kwargs)
        for name, kwargs in runs.items()
    }
    if workers <= 1 or not jobs:
        return {
            name: _labelled_finetune(name, num_threads, job)
            for name, job in jobs.items()
        }
    context = multiprocessing.get_context('spawn')
    # workers end with this process (a scheduler's SIGTERM, a kill):
    # they would otherwise run their fine-tunes to the end, unseen
    with ProcessPoolExecutor(
            min(workers, len(jobs)),
            mp_context=context,
            initializer=die_with_parent,
            initargs=(os.getpid(), )) as pool:
        futures = {
            name: pool.submit(_labelled_finetune, name, num_threads or 1, job)
            for name, job in jobs.items()
        }
        return {name: future.result() for name, future in futures.items()}


__all__ = [
    'num_heads_from_meta', 'build_finetune_config', 'run_finetune',
    'run_finetunes'
]
