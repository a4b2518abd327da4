# Copyright (c) mmsim contributors. All rights reserved.
"""Quick start, transfer step: convert a SIM checkpoint, fine-tune the tiny
Mask R-CNN (--task det: box and mask AP) or UperNet (--task seg: mIoU and
aAcc) on the generated set on CPU, print the metrics.

Example (after the pre-training quick start)::

    python tools/transfer_quickstart.py --task det \
        --checkpoint work_dirs/quickstart_sim/epoch_8.pth \
        --data-root data/shapes/det --work-dir work_dirs/det_quickstart \
        --also-random-init --parallel

Runs: ``SIM`` (the checkpoint), ``init`` (``--init-config``: the same
encoder at its pre-training initialisation, converted the same way) and
``random`` (``--also-random-init``: the task model's own initialisation,
with the checkpoint's backbone arch). With ``--parallel`` the runs go in
separate processes at once, one torch thread each (on 2 cores, two
one-thread runs take the time of one). Every line a run prints starts
with its name (``[SIM] ``). The metrics are written to
``<work-dir>/metrics.json`` (one entry per run).
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional

from mmsim.transfer import format_metrics, run_finetunes

#: The repository this tool is in (``tools/..``).
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: The tiny CPU config of each task, in the repository's ``configs``.
CONFIGS = dict(
    det=osp.join(
        REPO, 'configs', 'benchmarks', 'mmdetection', 'coco',
        'mask-rcnn_sim-vit-tiny-p16_simple-fpn_1xb4-lsj128-600i_shapes.py'),
    seg=osp.join(REPO, 'configs', 'benchmarks', 'mmsegmentation', 'shapes',
                 'upernet_sim-vit-tiny-p16_1xb8-300i_shapes-128x128.py'))
#: The line above each task's table.
TITLES = dict(
    det='COCO AP (%) on the generated val set:',
    seg='mmseg IoUMetric (%) on the generated val set '
    '(9 classes, background included):')


def parse_args(argv: Optional[List[str]] = None,
               task: Optional[str] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--task',
        choices=sorted(CONFIGS),
        default=task,
        required=task is None,
        help='det: Mask R-CNN, COCO AP; seg: UperNet, mIoU')
    parser.add_argument(
        '--config',
        help="the task's config (default: the tiny CPU one of configs/)")
    parser.add_argument(
        '--checkpoint', help='mmsim SIM checkpoint (omit: random init)')
    parser.add_argument(
        '--data-root',
        default='data/shapes/det',
        help='the folder generate_shapes writes: COCO annotations for det, '
        'labels/{train,val}/ for seg')
    parser.add_argument(
        '--work-dir', help='default: work_dirs/{det,seg}_quickstart')
    parser.add_argument(
        '--max-iters',
        type=int,
        help="training iterations (default: the config's, det 600, seg 300)")
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
    args = parser.parse_args(argv)
    args.config = args.config or CONFIGS[args.task]
    args.work_dir = args.work_dir or f'work_dirs/{args.task}_quickstart'
    return args


def main(argv: Optional[List[str]] = None, task: Optional[str] = None) -> int:
    """Run the quick start's fine-tunes.

    Args:
        argv (list[str], optional): Arguments. Defaults to the command
            line's.
        task (str, optional): The task when ``--task`` is not given (the
            ``det_quickstart.py`` / ``seg_quickstart.py`` wrappers).

    Returns:
        int: Exit status.
    """
    args = parse_args(argv, task)
    checkpoints = {}
    if args.checkpoint:
        checkpoints['SIM'] = args.checkpoint
    if args.init_config:
        from mmsim.evaluation import save_initial_checkpoint
        os.makedirs(args.work_dir, exist_ok=True)
        checkpoints['init'] = save_initial_checkpoint(
            args.init_config, osp.join(args.work_dir, 'sim_init.pth'),
            args.seed)
    if args.also_random_init or not checkpoints:
        checkpoints['random'] = None
    runs = {
        name:
        dict(
            work_dir=osp.join(args.work_dir, name),
            sim_checkpoint=checkpoint,
            # random init: the same model (backbone arch) as the checkpoint's
            arch_from=args.checkpoint if checkpoint is None else None)
        for name, checkpoint in checkpoints.items()
    }
    results = run_finetunes(
        args.task,
        args.config,
        runs,
        workers=len(runs) if args.parallel else 1,
        num_threads=args.num_threads,
        data_root=args.data_root,
        max_iters=args.max_iters,
        num_heads=args.num_heads,
        seed=args.seed)
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'metrics.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print('\n' + TITLES[args.task])
    print(format_metrics(results, args.task))
    return 0


if __name__ == '__main__':
    sys.exit(main())
