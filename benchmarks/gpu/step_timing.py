# Copyright (c) mmsim contributors. All rights reserved.
"""Step time, peak memory, FLOPs and MFU of SIM training steps.

A step is ``model.train_step(batch, optim_wrapper)``: data preprocessor
(host -> device copy of the uint8 views included), forward of the online
branch and the momentum target, UniGrad loss, backward, the optimiser
(with the config's clipping) and the target's EMA update. FLOPs are
counted by ``torch.utils.flop_counter.FlopCounterMode`` over one step
(matrix products, convolutions and attention, forward and backward; the
element-wise work is not counted, as is usual for MFU).
"""
import gc
import statistics
import time
from typing import Callable, Dict, List, Optional

import torch

from benchmarks.training_cost.batches import tile_batch
from .sim_setup import runner_iteration

#: Dense tensor-core peak, TFLOP/s, of known GPUs by a part of their name:
#: (bf16 = fp16, fp32 without TF32). From NVIDIA's data sheets (SXM forms
#: for H100 / H200; the PCIe H100 is lower).
PEAK_TFLOPS = (
    ('H100 PCIe', dict(bf16=756., fp16=756., fp32=51.)),
    ('H100', dict(bf16=989., fp16=989., fp32=67.)),
    ('H200', dict(bf16=989., fp16=989., fp32=67.)),
    ('A100', dict(bf16=312., fp16=312., fp32=19.5)),
)


def peak_tflops(device_name: str, precision: str) -> Optional[float]:
    """The data-sheet peak of a GPU by name, or None if unknown."""
    for part, peaks in PEAK_TFLOPS:
        if part in device_name:
            return peaks[precision]
    return None


def _cpu_attention_formulas() -> Dict:
    """FLOP formulas for the CPU kernel of fused attention, which torch's
    counter knows only for the CUDA kernels (flash, efficient, cuDNN):
    without them a CPU count leaves QK^T and AV out."""
    from torch.utils import flop_counter
    forward = getattr(torch.ops.aten,
                      '_scaled_dot_product_flash_attention_for_cpu', None)
    backward = getattr(torch.ops.aten,
                       '_scaled_dot_product_flash_attention_for_cpu_backward',
                       None)
    fwd_count = getattr(flop_counter, 'sdpa_flop_count', None)
    bwd_count = getattr(flop_counter, 'sdpa_backward_flop_count', None)
    formulas = {}
    if forward is not None and fwd_count is not None:
        formulas[forward] = lambda query, key, value, *args, **kwargs: \
            fwd_count(query, key, value)
    if backward is not None and bwd_count is not None:
        formulas[backward] = \
            lambda grad_out, query, key, value, *args, **kwargs: bwd_count(
                grad_out, query, key, value)
    return formulas


def count_flops(fn: Callable[[], object]) -> Optional[int]:
    """FLOPs counted by ``FlopCounterMode`` while ``fn()`` runs (None on
    torch < 2.1, which has no counter; ``fn`` is not run then)."""
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None
    counter = FlopCounterMode(
        display=False, custom_mapping=_cpu_attention_formulas())
    with counter:
        fn()
    return int(counter.get_total_flops())


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_steps(model: torch.nn.Module,
               wrapper,
               batch: dict,
               device: str,
               steps: int,
               warmup: int,
               first_iter: int = 0) -> Dict:
    """Run ``warmup + steps`` training steps on one batch.

    Args:
        model (nn.Module): SIM, on ``device``.
        wrapper (OptimWrapper): Its optimiser wrapper.
        batch (dict): A collated batch (CPU tensors).
        device (str): ``cuda`` or ``cpu``.
        steps (int): Timed steps.
        warmup (int): Untimed steps first.
        first_iter (int): Runner iteration of the first step.

    Returns:
        dict: ``step_s`` (median seconds per timed step), ``step_s_all``,
        ``peak_gib`` (CUDA ``max_memory_allocated``, None on CPU) and
        ``losses`` (every step's loss).
    """
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    times: List[float] = []
    losses: List[torch.Tensor] = []
    for index in range(warmup + steps):
        runner_iteration(first_iter + index)
        _sync(device)
        start = time.perf_counter()
        log_vars = model.train_step(batch, wrapper)
        _sync(device)
        if index >= warmup:
            times.append(time.perf_counter() - start)
        losses.append(log_vars['loss'].detach())  # read after the timing
    peak = (
        torch.cuda.max_memory_allocated() /
        2.**30 if device.startswith('cuda') else None)
    return dict(
        step_s=statistics.median(times),
        step_s_all=times,
        peak_gib=peak,
        losses=[float(loss) for loss in losses])


def step_flops(model: torch.nn.Module,
               wrapper,
               batch: dict,
               iteration: int = 0) -> Optional[int]:
    """FLOPs of one training step on ``batch`` (it also trains once)."""
    runner_iteration(iteration)
    return count_flops(lambda: model.train_step(batch, wrapper))


def fits(model: torch.nn.Module, wrapper, base: dict, batch_size: int,
         device: str) -> bool:
    """Whether two steps at ``batch_size`` run without running out of
    device memory (the memory cap, if any, included)."""
    try:
        time_steps(model, wrapper, tile_batch(base, batch_size), device, 1, 1)
        return True
    except torch.cuda.OutOfMemoryError:
        return False
    finally:
        wrapper.optimizer.zero_grad(set_to_none=True)
        gc.collect()
        if device.startswith('cuda'):
            torch.cuda.empty_cache()


def search_largest(fits: Callable[[int], bool],
                   start: int = 128,
                   limit: int = 2048,
                   granularity: int = 32) -> Dict:
    """The largest batch (a multiple of ``granularity``, at most ``limit``)
    for which ``fits(batch)`` holds, assuming it holds for every smaller
    batch: doubling from ``start`` until it fails (or passes ``limit``),
    then bisecting; halving first if ``start`` itself fails.

    Returns:
        dict: ``batch`` (0 if not even ``granularity`` fits) and ``tried``
        (``[batch, fitted]`` pairs in order).
    """
    tried = []

    def probe(size: int) -> bool:
        ok = fits(size)
        tried.append([size, ok])
        return ok

    low, high = 0, limit + granularity
    size = start
    while size <= limit and probe(size):
        low, size = size, size * 2
    if size <= limit:
        high = size
    if low == 0:  # the start did not fit: halve down
        size = start // 2
        while size >= granularity and not probe(size):
            high, size = size, size // 2
        low = size if size >= granularity else 0
    while high - low > granularity:
        middle = (low + high) // 2 // granularity * granularity
        if middle <= low or middle >= high or middle > limit:
            break
        if probe(middle):
            low = middle
        else:
            high = middle
    return dict(batch=low, tried=tried)


def largest_batch(model: torch.nn.Module, wrapper, base: dict, device: str,
                  **search) -> Dict:
    """:func:`search_largest` with :func:`fits` of this model."""
    return search_largest(
        lambda size: fits(model, wrapper, base, size, device), **search)


def mfu(flops: Optional[int], step_s: float,
        peak: Optional[float]) -> Optional[float]:
    """Model FLOPs utilisation: achieved FLOP/s over ``peak`` TFLOP/s."""
    if not flops or not peak or not step_s:
        return None
    return flops / step_s / (peak * 1e12)
