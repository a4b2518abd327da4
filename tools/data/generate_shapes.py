# Copyright (c) mmsim contributors. All rights reserved.
"""Write the synthetic shapes dataset (classification + COCO instances).

Examples::

    python tools/data/generate_shapes.py data/shapes
    python tools/data/generate_shapes.py data/shapes_big --num-train 8000 \
        --num-val 2000 --img-size 96 --num-det-train 2000 --num-det-val 500
"""
import argparse
import time

from mmsim.datasets.shapes import SHAPE_CLASSES, generate_shapes_dataset


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the mmsim synthetic shapes dataset '
        f'({len(SHAPE_CLASSES)} classes: {", ".join(SHAPE_CLASSES)}).')
    parser.add_argument(
        'out_dir', nargs='?', default='data/shapes', help='output folder')
    parser.add_argument(
        '--num-train',
        type=int,
        default=2000,
        help='classification training images')
    parser.add_argument(
        '--num-val',
        type=int,
        default=400,
        help='classification validation images')
    parser.add_argument(
        '--img-size',
        type=int,
        default=64,
        help='side of classification images (pixels)')
    parser.add_argument(
        '--num-det-train',
        type=int,
        default=800,
        help='detection training images (0 with '
        '--num-det-val 0: no detection set)')
    parser.add_argument(
        '--num-det-val',
        type=int,
        default=200,
        help='detection validation images')
    parser.add_argument(
        '--det-img-size',
        type=int,
        default=128,
        help='side of detection images (pixels)')
    parser.add_argument('--seed', type=int, default=0, help='base seed')
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if a matching set exists')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.time()
    try:
        manifest = generate_shapes_dataset(
            args.out_dir,
            num_train=args.num_train,
            num_val=args.num_val,
            img_size=args.img_size,
            num_det_train=args.num_det_train,
            num_det_val=args.num_det_val,
            det_img_size=args.det_img_size,
            seed=args.seed,
            force=args.force)
    except (ValueError, FileExistsError) as error:
        raise SystemExit(f'error: {error}')
    print(f'shapes dataset in {args.out_dir} ({time.time() - start:.1f} s): '
          f'{manifest["params"]}')


if __name__ == '__main__':
    main()
