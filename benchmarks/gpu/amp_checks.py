# Copyright (c) mmsim contributors. All rights reserved.
"""Correctness checks of SIM under mixed precision, for the GPU check.

- :func:`loss_agreement`: the loss of one batch under bf16 / fp16 autocast
  against fp32, from the same weights and the same random draws.
- :func:`host_sync_check`: a training step under
  ``torch.cuda.set_sync_debug_mode('error')`` (any wait of the host for
  the device raises), in fp32 and under bf16 autocast, with the config's
  optimiser in a plain wrapper (no clipping: mmengine reads the clipped
  norm on the host; no loss scaler: torch's ``GradScaler.step`` reads its
  inf check on the host; bf16 needs none) and, reported separately, with
  the config's own ``AmpOptimWrapper`` (which syncs in those two places).
- :func:`overflow_check`: an fp16 step whose gradients overflow (the loss
  multiplied by inf before backward) must be skipped by the GradScaler:
  weights unchanged and finite, the scale halved; the next step trains.
"""
import contextlib
import traceback
from typing import Dict, Optional

import torch

from .sim_setup import PRECISIONS, model_inputs, runner_iteration

#: The host-sync checks, in the order of the report.
SYNC_CHECKS = ('host_sync_fp32', 'host_sync_bf16', 'host_sync_config_wrapper')


def _loss(model: torch.nn.Module, batch: dict, dtype: Optional[torch.dtype],
          device: str, seed: int) -> float:
    """The parsed loss of ``batch`` (no backward), autocast to ``dtype``."""
    torch.manual_seed(seed)
    inputs, samples = model_inputs(model, batch)
    device_type = 'cuda' if device.startswith('cuda') else 'cpu'
    autocast = contextlib.nullcontext() if dtype is None else torch.autocast(
        device_type, dtype=dtype)
    with torch.no_grad(), autocast:
        loss, _ = model.parse_losses(model(inputs, samples, mode='loss'))
    return float(loss)


def loss_agreement(model: torch.nn.Module,
                   batch: dict,
                   device: str,
                   seed: int = 0) -> Dict:
    """Relative difference of the bf16 and fp16 autocast losses from the
    fp32 loss (and fp32 against itself: the floor).

    Returns:
        dict: ``loss`` per precision and ``rel_diff`` per precision (None
        where this torch cannot autocast to it on this device: fp16 on the
        CPU before torch 2.1).
    """
    runner_iteration(0)
    fp32 = _loss(model, batch, None, device, seed)
    losses = dict(fp32=fp32)
    rel = dict(
        fp32=abs(_loss(model, batch, None, device, seed) - fp32) / abs(fp32))
    for name in ('bf16', 'fp16'):
        try:
            losses[name] = _loss(model, batch, PRECISIONS[name], device, seed)
        except RuntimeError:  # "AutocastCPU only support Bfloat16"
            losses[name] = rel[name] = None
            continue
        rel[name] = abs(losses[name] - fp32) / abs(fp32)
    return dict(loss=losses, rel_diff=rel)


def _first_foreign_frame(error: BaseException) -> str:
    """``file:line`` of the innermost frame outside torch of a traceback
    (who asked for the sync)."""
    torch_dir = torch.__file__.rsplit('/', 1)[0]
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith(torch_dir)
    ]
    if not frames:
        return '?'
    frame = frames[-1]
    return f'{frame.filename}:{frame.lineno} ({frame.name})'


def host_sync_check(model: torch.nn.Module,
                    wrapper,
                    batch: dict,
                    iteration: int,
                    autocast_dtype: Optional[torch.dtype] = None) -> Dict:
    """One training step under ``set_sync_debug_mode('error')``, inputs
    already on the device (the copy is not the step).

    Args:
        model (nn.Module): SIM on the GPU (one step already taken: the
            first reads the mask count once per run).
        wrapper (OptimWrapper): Its optimiser wrapper.
        batch (dict): A collated batch.
        iteration (int): Runner iteration of the step.
        autocast_dtype (torch.dtype, optional): Autocast the forward to it
            (besides what the wrapper's own context does).

    Returns:
        dict: ``ok`` and, if a sync happened, ``error`` and ``where``.
    """
    runner_iteration(iteration)
    inputs, samples = model_inputs(model, batch)
    autocast = contextlib.nullcontext() if autocast_dtype is None else \
        torch.autocast('cuda', dtype=autocast_dtype)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        with wrapper.optim_context(model), autocast:
            losses = model(inputs, samples, mode='loss')
        loss, _ = model.parse_losses(losses)
        wrapper.update_params(loss)
        result = dict(ok=True)
    except RuntimeError as error:
        result = dict(
            ok=False,
            error=str(error).splitlines()[0],
            where=_first_foreign_frame(error))
    finally:
        torch.cuda.set_sync_debug_mode('default')
    wrapper.optimizer.zero_grad(set_to_none=True)
    return result


def overflow_check(model: torch.nn.Module, wrapper, batch: dict,
                   iteration: int) -> Dict:
    """An fp16 step with overflowing gradients, then a normal one.

    Args:
        model (nn.Module): SIM on the GPU.
        wrapper (AmpOptimWrapper): fp16, dynamic loss scale.
        batch (dict): A collated batch.
        iteration (int): Runner iteration of the first of the two steps.

    Returns:
        dict: ``skipped`` (weights unchanged), ``finite`` (no NaN/inf in
        the weights), ``scale_before`` / ``scale_after``, ``recovered``
        (the next step's loss is finite and the weights move).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in params]
    scale_before = float(wrapper.loss_scaler.get_scale())
    runner_iteration(iteration)
    inputs, samples = model_inputs(model, batch)
    with wrapper.optim_context(model):
        losses = model(inputs, samples, mode='loss')
    loss, _ = model.parse_losses(losses)
    wrapper.update_params(loss * float('inf'))
    skipped = all(torch.equal(p, b) for p, b in zip(params, before))
    finite = all(bool(torch.isfinite(p).all()) for p in params)
    scale_after = float(wrapper.loss_scaler.get_scale())
    runner_iteration(iteration + 1)
    log_vars = model.train_step(batch, wrapper)
    moved = any(not torch.equal(p, b) for p, b in zip(params, before))
    return dict(
        skipped=skipped,
        finite=finite,
        scale_before=scale_before,
        scale_after=scale_after,
        recovered=bool(torch.isfinite(log_vars['loss'])) and moved,
        ok=skipped and finite and scale_after == scale_before / 2 and moved)
