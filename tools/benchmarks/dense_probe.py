# Copyright (c) mmsim contributors. All rights reserved.
"""Dense linear probe of a pre-trained encoder: mIoU of a linear
classifier on its frozen patch tokens (``mmsim.evaluation.dense_probe``).

Example (after the quick start)::

    python tools/benchmarks/dense_probe.py \
        configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py \
        work_dirs/quickstart_sim/epoch_8.pth --data-root data/shapes/det
    # the same encoder at its random init, for the floor:
    python tools/benchmarks/dense_probe.py \
        configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py random \
        --data-root data/shapes/det

CONFIG is the pre-training config (any mmselfsup algorithm with an mmcls
ViT or feature-map backbone and a data preprocessor); CHECKPOINT its
checkpoint (``random``: the config's own init, seeded). The data are image
folders with label-PNG folders of the same stems (the generated set's
``det/{train,val}`` and ``det/labels/{train,val}``). Prints the mIoU and
the per-class IoU and writes ``dense_probe.json`` to ``--work-dir``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
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
    parser.add_argument('--work-dir', default='work_dirs/dense_probe')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--no-progress',
        dest='progress',
        action='store_false',
        help='no progress bars (done/total images and ETA) while '
        'extracting patch features')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import mmsim  # noqa: F401  (registers the components)
    from mmsim.evaluation import (build_pretrain_model, dense_probe_miou,
                                  load_dense_probe_set)
    model = build_pretrain_model(
        args.config, None if args.checkpoint == 'random' else args.checkpoint,
        args.seed)
    splits = [
        load_dense_probe_set(
            osp.join(args.data_root, getattr(args, f'{split}_img_dir')),
            osp.join(args.data_root,
                     getattr(args, f'{split}_ann_dir')), args.img_size,
            getattr(args, f'max_{split}_images')) for split in ('train', 'val')
    ]
    result = dense_probe_miou(
        model,
        *splits,
        args.num_classes,
        args.backbone,
        progress=args.progress)
    grid = 'x'.join(map(str, result['grid']))
    print(f'dense probe: mIoU {result["mIoU"]:.2f} % on '
          f'{len(splits[1].names)} images ({grid} patches each), fitted on '
          f'{len(splits[0].names)}')
    print('per-class IoU (%): ' +
          ', '.join(f'{i}: {v:.1f}'
                    for i, v in enumerate(result['IoU'].tolist())))
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'dense_probe.json'), 'w') as f:
        json.dump(
            dict(
                mIoU=result['mIoU'],
                IoU=result['IoU'].tolist(),
                grid=list(result['grid']),
                config=args.config,
                checkpoint=args.checkpoint),
            f,
            indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
