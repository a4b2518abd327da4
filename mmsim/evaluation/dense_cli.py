# Copyright (c) mmsim contributors. All rights reserved.
"""What the dense evaluation tools share (``tools/benchmarks/
dense_probe.py`` and ``dense_retrieval.py``): their arguments for the
encoder and the labelled image folders, and reading the two splits."""
import argparse
import json
import os
import os.path as osp
from typing import List, Tuple

from .dense_probe_set import DenseProbeSet, load_dense_probe_set


def add_dense_data_args(parser: argparse.ArgumentParser,
                        work_dir: str) -> None:
    """The encoder (config, checkpoint or ``random``), the data folders
    (mmseg's ``img_dir`` / ``ann_dir`` layout), sizes, work dir, seed and
    progress arguments of a dense evaluation tool."""
    parser.add_argument('config', help='pre-training config')
    parser.add_argument('checkpoint', help="checkpoint, or 'random'")
    parser.add_argument('--data-root', default='data/shapes/det')
    parser.add_argument('--train-img-dir', default='train')
    parser.add_argument('--train-ann-dir', default='labels/train')
    parser.add_argument('--val-img-dir', default='val')
    parser.add_argument('--val-ann-dir', default='labels/val')
    parser.add_argument(
        '--num-classes',
        type=int,
        default=9,
        help='classes including background (9: the 8 shapes + background)')
    parser.add_argument('--img-size', type=int, help='resize images to this')
    parser.add_argument('--max-train-images', type=int, default=400)
    parser.add_argument('--max-val-images', type=int, default=200)
    parser.add_argument(
        '--backbone', default='backbone', help='dotted path of the encoder')
    parser.add_argument('--work-dir', default=work_dir)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--no-progress',
        dest='progress',
        action='store_false',
        help='no progress bars (done/total images and ETA) while '
        'extracting patch features')


def load_dense_splits(
        args: argparse.Namespace) -> Tuple[DenseProbeSet, DenseProbeSet]:
    """The (train, val) sets the arguments of :func:`add_dense_data_args`
    name."""
    train, val = (
        load_dense_probe_set(
            osp.join(args.data_root, getattr(args, f'{split}_img_dir')),
            osp.join(args.data_root, getattr(args, f'{split}_ann_dir')),
            args.img_size, getattr(args, f'max_{split}_images'))
        for split in ('train', 'val'))
    return train, val


def build_encoder(args: argparse.Namespace):
    """The pre-training model of ``args.config`` with ``args.checkpoint``
    (``random``: the config's own init, seeded by ``args.seed``)."""
    from .model_loading import build_pretrain_model
    checkpoint = None if args.checkpoint == 'random' else args.checkpoint
    return build_pretrain_model(args.config, checkpoint, args.seed)


def write_dense_result(args: argparse.Namespace, name: str,
                       per_class_iou: List[float], record: dict) -> str:
    """Print the per-class IoU and write ``record`` (plus the config and
    checkpoint) to ``<work_dir>/<name>.json``.

    Returns:
        str: The JSON's path.
    """
    print('per-class IoU (%): ' +
          ', '.join(f'{i}: {v:.1f}' for i, v in enumerate(per_class_iou)))
    os.makedirs(args.work_dir, exist_ok=True)
    path = osp.join(args.work_dir, f'{name}.json')
    with open(path, 'w') as file:
        json.dump(
            dict(record, config=args.config, checkpoint=args.checkpoint),
            file,
            indent=2)
    return path
