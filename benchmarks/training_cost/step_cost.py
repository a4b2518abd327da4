# Copyright (c) mmsim contributors. All rights reserved.
"""Time and memory of full training steps of one method (one process).

A step is the method's own ``train_step(data, optim_wrapper)``: data
preprocessor, forward, loss, backward, optimiser (with the config's
parameter-wise settings and gradient clipping) and, for SIM and MoCo v3,
the momentum (EMA) target update. The batch is produced once by the
method's own train pipeline and collate function from generated JPEGs and
reused at every step, so data loading is not timed.
"""
import random
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from . import ablations
from .batches import make_batch
from .memory import current_rss_mib, peak_rss_mib, reset_peak_rss
from .models import cpu_optim_wrapper_cfg, method_config, train_pipeline


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def measure_step_cost(method: str,
                      encoder: str,
                      image_paths: Sequence[str],
                      batch_size: int = 8,
                      steps: int = 5,
                      warmup: int = 1,
                      device: str = 'cpu',
                      variant: str = 'baseline',
                      time_ema: bool = False,
                      seed: int = 0,
                      profile_rows: Optional[int] = None,
                      host: str = 'mmselfsup',
                      compile_step: bool = False) -> Dict:
    """Build a method from its config and time its training steps.

    Args:
        method (str): ``sim_release``, ``sim_paper``, ``mae`` or ``mocov3``.
        encoder (str): ``vit-s``, ``vit-b`` or ``tiny``.
        image_paths (Sequence[str]): JPEGs for the batch.
        batch_size (int): Images per step (per device).
        steps (int): Timed steps after the warm-up.
        warmup (int): Untimed steps first.
        device (str): ``cpu`` or ``cuda`` (fp16 autocast through the
            config's ``AmpOptimWrapper`` on CUDA; fp32 on CPU).
        variant (str): SIM ablation variant (see ``ablations.VARIANTS``).
        time_ema (bool): Also time one target update, foreach vs loop.
        seed (int): Torch seed.
        profile_rows (int, optional): Profile one extra step with
            ``torch.profiler`` and return its top operators by self CPU
            time.
        host (str): ``mmselfsup`` or ``mmpretrain``: whose configs and
            registries build the method.
        compile_step (bool): Compile the model's ``train_step`` with
            ``torch.compile`` (as mmengine's ``compile=True`` does); the
            warm-up steps then include the compilation.

    Returns:
        dict: ``step_s`` (list of seconds per timed step), ``peak_mib``
        (peak RSS of the process on CPU, ``max_memory_allocated`` on
        CUDA), ``base_mib`` (RSS after imports on CPU, allocated CUDA memory on
        GPU; before the model is built),
        ``losses`` and optional ``ema`` / ``profile``.
    """
    init_default_scope(host)
    import mmsim  # noqa: F401  (registers SIM's components)
    from mmsim.hosts import host as host_adapter
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    base_mib = current_rss_mib() if device == 'cpu' else \
        torch.cuda.memory_allocated() / 1024.**2
    reset_peak_rss()
    cfg = method_config(method, encoder, host)
    if variant != 'baseline':
        if not method.startswith('sim'):
            raise ValueError(f'ablation {variant!r} applies to SIM only')
        ablations.apply_to_config(cfg, variant)
    model = host_adapter().MODELS.build(cfg.model)
    model.init_weights()
    model.to(device)
    model.train()
    handles = ablations.apply_to_model(model, variant)
    optim_wrapper = build_optim_wrapper(model,
                                        cpu_optim_wrapper_cfg(cfg, device))
    batch = make_batch(train_pipeline(cfg), image_paths, batch_size)
    if compile_step:
        model.train_step = torch.compile(model.train_step)

    hub = MessageHub.get_current_instance()
    total = warmup + steps + (1 if profile_rows else 0)
    hub.update_info('max_iters', 1000)
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    step_s, losses = [], []
    for index in range(warmup + steps):
        hub.update_info('iter', index)
        _sync(device)
        start = time.perf_counter()
        log_vars = model.train_step(batch, optim_wrapper)
        _sync(device)
        elapsed = time.perf_counter() - start
        losses.append(float(log_vars['loss']))
        if index >= warmup:
            step_s.append(elapsed)
    if device == 'cuda':
        peak_mib = torch.cuda.max_memory_allocated() / 1024.**2
    else:
        peak_mib = peak_rss_mib()
    result = dict(
        method=method,
        encoder=encoder,
        variant=variant,
        device=device,
        batch_size=batch_size,
        step_s=step_s,
        peak_mib=peak_mib,
        base_mib=base_mib,
        losses=losses,
        num_params=sum(p.numel() for p in model.parameters()
                       if p.requires_grad))
    if time_ema and hasattr(model, 'target'):
        result['ema'] = ablations.time_momentum_update(model)
    if profile_rows:
        result['profile'] = _profile_one_step(model, batch, optim_wrapper,
                                              total - 1, profile_rows)
    del handles
    return result


def _profile_one_step(model, batch, optim_wrapper, index: int,
                      rows: int) -> List[Dict]:
    """Top ``rows`` operators by self CPU time of one step."""
    from torch.profiler import ProfilerActivity, profile
    MessageHub.get_current_instance().update_info('iter', index)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model.train_step(batch, optim_wrapper)
    events = sorted(
        prof.key_averages(),
        key=lambda event: event.self_cpu_time_total,
        reverse=True)
    total_us = sum(event.self_cpu_time_total for event in events)
    return [
        dict(
            name=event.key,
            self_cpu_ms=event.self_cpu_time_total / 1e3,
            self_cpu_pct=100. * event.self_cpu_time_total / max(total_us, 1),
            cpu_total_ms=event.cpu_time_total / 1e3,
            calls=event.count) for event in events[:rows]
    ]
