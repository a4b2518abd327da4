# Copyright (c) mmsim contributors. All rights reserved.
"""Shared steps of the frozen-feature benchmark tools
(``tools/benchmarks/classification/{knn,logistic_regression}.py``): their
common arguments, the config with the SIM checkpoint in the backbone's
``Pretrained`` init_cfg, the model, and the pooled features of the
config's train and val sets."""
import argparse
import os
import os.path as osp
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import get_rank, init_dist
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings, mkdir_or_exist

from .feature_extraction import extract_pooled_features


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments every frozen-feature tool takes."""
    parser.add_argument('config', help='benchmark config')
    parser.add_argument(
        'checkpoint',
        help='SIM checkpoint (backbone.* keys, from `mim train mmselfsup` or '
        'tools/model_converters/release_to_sim.py)')
    parser.add_argument('--work-dir', help='where to write results')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy')
    parser.add_argument(
        '--no-progress',
        dest='progress',
        action='store_false',
        help='no progress bars (done/total images and ETA, rank 0) while '
        'extracting features')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace, tool: str) -> Config:
    """Config with the checkpoint put into the backbone's init_cfg."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_cfg = cfg.model.backbone.get('init_cfg')
    if not isinstance(init_cfg, dict) or init_cfg.get('type') != \
            'Pretrained':
        raise ValueError(f'{args.config}: model.backbone.init_cfg must be '
                         "dict(type='Pretrained', ...), got "
                         f'{init_cfg!r}')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} not found')
    init_cfg['checkpoint'] = args.checkpoint
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', 'benchmarks', tool,
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_feature_model(cfg: Config,
                        launcher: str = 'none') -> torch.nn.Module:
    """Set up scope / imports / distribution and build the model with its
    backbone loaded from the checkpoint, in eval mode (on GPU if any)."""
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    from ..hosts import host
    init_default_scope(cfg.get('default_scope', host().CLS_SCOPE))
    if launcher != 'none':
        init_dist(launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))
    from mmengine.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    if torch.cuda.is_available():
        model = model.cuda()
    return model.eval()


def extract_train_val(
    cfg: Config,
    model: torch.nn.Module,
    progress: bool = True
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(N, D) train features, (N,) labels, (M, D) val features, (M,)
    labels, identical on every rank; with ``progress`` a bar of each
    split's images with its ETA on rank 0."""
    seed = cfg.get('randomness', {}).get('seed', 0)
    feats = []
    for name in ('train_dataloader', 'val_dataloader'):
        loader = Runner.build_dataloader(cfg.get(name), seed=seed)
        if progress and get_rank() == 0:
            print(f'{name}:', flush=True)
        feats.extend(extract_pooled_features(model, loader, progress=progress))
    return tuple(feats)


def prepare_work_dir(cfg: Config) -> str:
    """Create the config's ``work_dir``; returns it."""
    mkdir_or_exist(osp.abspath(cfg.work_dir))
    return cfg.work_dir


def run_args(parser: argparse.ArgumentParser,
             argv: Optional[List[str]]) -> argparse.Namespace:
    """Parse ``argv`` (None: the command line's) and export the local rank
    as ``LOCAL_RANK`` for the launcher, unless it is set already."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args
