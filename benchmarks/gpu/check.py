# Copyright (c) mmsim contributors. All rights reserved.
"""The GPU check: SIM's ViT-B recipe step on one GPU, in one command.

Usage (from the repository root; ``benchmarks/gpu/run_check.sh`` sets up
an environment on a machine without a package registry first)::

    python -m benchmarks.gpu.check --out OUT_DIR
    python -m benchmarks.gpu.check --reduced --device cpu --out OUT_DIR

For bf16 and fp16 autocast (mmengine's ``AmpOptimWrapper``) and fp32 it
measures the step time and peak memory at batch 64, 128 and the largest
batch that fits in ``--memory-gib`` (the CUDA allocator capped there),
the step's FLOPs and MFU against the GPU's data-sheet peak, then runs the
no-host-sync check, the GradScaler overflow check and the AMP-vs-fp32 loss
agreement. Writes ``gpu_check.json`` and ``gpu_check.md`` to ``--out``.
``--reduced`` (1-block model, batches 2 and 4, no search) is what the
tests run on CPU so the script cannot rot; on CPU only fp32 steps run
(mmengine's AMP wrapper needs a GPU) and the CUDA-only checks are
reported as skipped.
"""
import argparse
import json
import logging
import os
import os.path as osp
import tempfile
import time
from typing import Dict, List, Optional

import torch

from benchmarks.training_cost.batches import tile_batch
from . import amp_checks, report, sim_setup, step_timing


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--out',
        required=True,
        help='folder for the '
        'JSON and markdown results')
    parser.add_argument(
        '--config',
        help='SIM pre-training config '
        "(default: the host's ViT-B release recipe)")
    parser.add_argument('--device', default='cuda')
    parser.add_argument(
        '--reduced',
        action='store_true',
        help='1-block model, small batches (tests, CPU)')
    parser.add_argument(
        '--precisions',
        nargs='+',
        default=None,
        choices=sorted(sim_setup.PRECISIONS))
    parser.add_argument('--batches', nargs='+', type=int, default=None)
    parser.add_argument(
        '--memory-gib',
        type=float,
        default=40.,
        help='cap of the CUDA allocator for the largest-'
        'batch search (default 40)')
    parser.add_argument(
        '--no-search',
        action='store_true',
        help='skip the largest-batch search')
    parser.add_argument('--steps', type=int, default=None)
    parser.add_argument('--warmup', type=int, default=None)
    parser.add_argument(
        '--peak-tflops',
        type=float,
        default=None,
        help='peak TFLOP/s for MFU when the GPU is not in '
        'step_timing.PEAK_TFLOPS')
    parser.add_argument(
        '--budget-s',
        type=float,
        default=540.,
        help='stop starting new measurements after this '
        'many seconds (default 540: one 10-minute command)')
    args = parser.parse_args(argv)
    cuda = args.device.startswith('cuda')
    if cuda and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: torch {torch.__version__} '
                     'sees no CUDA device (use --device cpu --reduced)')
    if args.precisions is None:
        args.precisions = ['bf16', 'fp16', 'fp32'] if cuda else ['fp32']
    if not cuda and set(args.precisions) - {'fp32'}:
        parser.error('on the CPU only fp32 steps run (AmpOptimWrapper '
                     'needs a GPU)')
    args.batches = args.batches or ([2, 4] if args.reduced else [64, 128])
    args.steps = args.steps or (1 if args.reduced else 10)
    args.warmup = args.warmup if args.warmup is not None else (
        1 if args.reduced else 3)
    args.no_search = args.no_search or args.reduced or not cuda
    return args


def environment(device: str) -> Dict:
    """Versions and the device, for the report."""
    import mmengine
    import numpy
    info = dict(
        torch=torch.__version__,
        numpy=numpy.__version__,
        mmengine=mmengine.__version__,
        host=sim_setup.host_name(),
        device=device)
    if device.startswith('cuda'):
        props = torch.cuda.get_device_properties(device)
        info.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2.**30, 1),
            cuda=torch.version.cuda)
    return info


def measure_precision(cfg, precision: str, base: dict, args, deadline: float,
                      peak: Optional[float]) -> Dict:
    """Step times at the fixed batches and the largest fitting one, FLOPs
    and MFU, for one precision (a fresh model)."""
    model = sim_setup.build_model(cfg, args.device)
    wrapper = sim_setup.build_wrapper(model, cfg, precision)
    rows = []
    sizes = list(args.batches)
    if not args.no_search and time.time() < deadline:
        found = step_timing.largest_batch(model, wrapper, base, args.device)
        rows.append(dict(search=found['tried']))
        if found['batch'] and found['batch'] not in sizes:
            sizes.append(found['batch'])
    iteration = 0
    for size in sizes:
        if time.time() > deadline:
            rows.append(dict(batch=size, skipped='time budget spent'))
            continue
        batch = tile_batch(base, size)
        row = dict(batch=size, largest=size not in args.batches)
        try:
            row.update(
                step_timing.time_steps(model, wrapper, batch, args.device,
                                       args.steps, args.warmup, iteration))
        except torch.cuda.OutOfMemoryError:
            row['skipped'] = 'out of memory'
            rows.append(row)
            continue
        iteration += args.steps + args.warmup
        row['flops'] = step_timing.step_flops(model, wrapper, batch, iteration)
        iteration += 1
        row['tflops_per_s'] = (None if row['flops'] is None else row['flops'] /
                               row['step_s'] / 1e12)
        row['mfu'] = step_timing.mfu(row['flops'], row['step_s'], peak)
        row['images_per_s'] = size / row['step_s']
        rows.append(row)
    del model, wrapper
    if args.device.startswith('cuda'):
        torch.cuda.empty_cache()
    return dict(precision=precision, peak_tflops=peak, rows=rows)


def run_checks(cfg, base: dict, args) -> Dict:
    """Loss agreement (any device); sync and overflow checks (CUDA)."""
    checks = {}
    model = sim_setup.build_model(cfg, args.device)
    small = tile_batch(base, args.batches[0])
    checks['amp_loss_agreement'] = amp_checks.loss_agreement(
        model, small, args.device)
    if not args.device.startswith('cuda'):
        reason = 'needs a CUDA device'
        checks.update({
            name: dict(skipped=reason)
            for name in amp_checks.SYNC_CHECKS + ('fp16_overflow', )
        })
        return checks
    plain = sim_setup.build_wrapper(model, cfg, 'fp32', clip_grad=False)
    model.train_step(small, plain)  # the first step reads the mask count
    checks['host_sync_fp32'] = amp_checks.host_sync_check(
        model, plain, small, 1)
    checks['host_sync_bf16'] = amp_checks.host_sync_check(
        model, plain, small, 2, autocast_dtype=torch.bfloat16)
    checks['host_sync_config_wrapper'] = amp_checks.host_sync_check(
        model, sim_setup.build_wrapper(model, cfg, 'bf16'), small, 3)
    wrapper = sim_setup.build_wrapper(model, cfg, 'fp16')
    sim_setup.runner_iteration(4)
    model.train_step(small, wrapper)
    checks['fp16_overflow'] = amp_checks.overflow_check(
        model, wrapper, small, 5)
    return checks


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    start = time.time()
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    deadline = start + args.budget_s
    torch.manual_seed(0)
    cfg = sim_setup.load_config(args.config, args.reduced)
    info = environment(args.device)
    if args.device.startswith('cuda') and not args.no_search:
        total = torch.cuda.get_device_properties(args.device).total_memory
        fraction = min(1., args.memory_gib * 2.**30 / total)
        torch.cuda.set_per_process_memory_fraction(fraction, args.device)
        info['memory_cap_gib'] = round(fraction * total / 2.**30, 1)
    with tempfile.TemporaryDirectory() as images:
        base, note = sim_setup.base_batch(cfg, images,
                                          2 if args.reduced else 32)
    results = dict(
        environment=info,
        config=args.config or sim_setup.RECIPES[info['host']],
        reduced=args.reduced,
        steps=args.steps,
        warmup=args.warmup,
        precisions=[],
        notes=[note] if note else [])
    for precision in args.precisions:
        peak = args.peak_tflops or step_timing.peak_tflops(
            info.get('gpu', ''), precision)
        results['precisions'].append(
            measure_precision(cfg, precision, base, args, deadline, peak))
    results['checks'] = run_checks(cfg, base, args)
    results['wall_s'] = time.time() - start
    os.makedirs(args.out, exist_ok=True)
    with open(osp.join(args.out, 'gpu_check.json'), 'w') as file:
        json.dump(results, file, indent=1)
    markdown = report.markdown(results)
    with open(osp.join(args.out, 'gpu_check.md'), 'w') as file:
        file.write(markdown)
    print(markdown)
    return results


if __name__ == '__main__':
    main()
