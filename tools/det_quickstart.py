# Copyright (c) mmsim contributors. All rights reserved.
"""Quick start, detection step: convert a SIM checkpoint, fine-tune the
tiny Mask R-CNN on the generated COCO-format set on CPU, print box and
mask AP.

Example (after the pre-training quick start)::

    python tools/det_quickstart.py --checkpoint work_dirs/sim/epoch_8.pth \
        --data-root data/shapes/det --work-dir work_dirs/det_quickstart \
        --also-random-init --parallel

Runs: ``SIM`` (the checkpoint), ``init`` (``--init-config``: the same
encoder at its pre-training initialisation, converted the same way) and
``random`` (``--also-random-init``: the detector's own initialisation,
with the checkpoint's backbone arch).
With ``--parallel`` the runs go in separate processes at once, one torch
thread each (on 2 cores, two one-thread runs take the time of one). The
metrics are written to ``<work-dir>/metrics.json`` (one entry per run).
"""
import argparse
import json
import multiprocessing
import os
import os.path as osp
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, Optional

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # also when imported
from det_quickstart_lib import format_metrics, run_det_quickstart  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--checkpoint', help='mmsim SIM checkpoint (omit: random init)')
    parser.add_argument(
        '--data-root',
        default='data/shapes/det',
        help='COCO-format folder from generate_shapes_dataset')
    parser.add_argument('--work-dir', default='work_dirs/det_quickstart')
    parser.add_argument(
        '--max-iters',
        type=int,
        help="training iterations (default: the config's, 600)")
    parser.add_argument(
        '--num-heads',
        type=int,
        help='heads of the SIM ViT if its checkpoint has no saved config')
    parser.add_argument(
        '--also-random-init',
        action='store_true',
        help='also train from random init, for comparison')
    parser.add_argument(
        '--init-config',
        help='also fine-tune from this pre-training config\'s own '
        'initialisation (the encoder before pre-training: the baseline '
        'that isolates what pre-training adds)')
    parser.add_argument(
        '--parallel',
        action='store_true',
        help='train the runs at once, one process and thread each')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--num-threads',
        type=int,
        help='torch CPU threads (1 is fastest on a busy 2-core machine)')
    return parser.parse_args(argv)


def _run(args: argparse.Namespace, name: str,
         checkpoint: Optional[str]) -> Dict[str, float]:
    """One fine-tune + evaluation (in this or a child process)."""
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    metrics = run_det_quickstart(
        args.data_root,
        osp.join(args.work_dir, name),
        sim_checkpoint=checkpoint,
        max_iters=args.max_iters,
        num_heads=args.num_heads,
        seed=args.seed,
        # random init: the same detector (backbone arch) as the checkpoint's
        arch_from=args.checkpoint if checkpoint is None else None)
    return {k: float(v) for k, v in metrics.items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = {}
    if args.checkpoint:
        runs['SIM'] = args.checkpoint
    if args.init_config:
        from mmsim.evaluation import save_initial_checkpoint
        os.makedirs(args.work_dir, exist_ok=True)
        runs['init'] = save_initial_checkpoint(
            args.init_config, osp.join(args.work_dir, 'sim_init.pth'),
            args.seed)
    if args.also_random_init or not runs:
        runs['random'] = None
    if args.parallel and len(runs) > 1:
        args.num_threads = args.num_threads or 1
        context = multiprocessing.get_context('spawn')
        with ProcessPoolExecutor(len(runs), mp_context=context) as pool:
            futures = {
                name: pool.submit(_run, args, name, checkpoint)
                for name, checkpoint in runs.items()
            }
            results = {name: f.result() for name, f in futures.items()}
    else:
        results = {
            name: _run(args, name, checkpoint)
            for name, checkpoint in runs.items()
        }
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'metrics.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print('\nCOCO AP (%) on the generated val set:')
    print(format_metrics(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
