# Copyright (c) mmsim contributors. All rights reserved.
"""Train with an mmsim config: mmselfsup's ``tools/train.py`` (same
arguments) on :class:`mmsim.engine.SIMRunner`, which also runs several
processes on a machine without GPUs and names the file or setting when a
dataloader would be empty.

Examples::

    # one process (CPU or one GPU)
    python tools/train.py \\
        configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py
    # two processes on CPU (gloo), or N GPUs (nccl): the same command
    python -m torch.distributed.run --nproc_per_node 2 tools/train.py \\
        configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py \\
        --launcher pytorch
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import Config, DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a path from the '
        'latest checkpoint in the work directory')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch (processes '
        'x train_dataloader.batch_size) over the config\'s '
        'auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value (e.g. '
        'train_dataloader.batch_size=8)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help="job launcher; without GPUs only 'pytorch' (torchrun)")
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank; torch.distributed.run sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    """The config with the command line applied, as mmselfsup's tool."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper '
                             f'or AmpOptimWrapper, not {optim_wrapper!r}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if cfg.get('auto_scale_lr', {}).get('base_batch_size') is None:
            raise ValueError(
                f'--auto-scale-lr needs auto_scale_lr.base_batch_size (the '
                f'total batch the learning rate is set for) in {args.config}'
                '; add e.g. auto_scale_lr = dict(base_batch_size=256)')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    cfg = build_config(args)
    from mmengine.registry import RUNNERS

    from mmsim.engine import SIMRunner
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = SIMRunner.from_cfg(cfg)
    runner.train()
    return 0


if __name__ == '__main__':
    sys.exit(main())
