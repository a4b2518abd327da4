# Copyright (c) mmsim contributors. All rights reserved.
"""Dense nearest-neighbour retrieval of a pre-trained encoder (Hummingbird):
per-pixel mIoU of its frozen patch tokens labelled by their nearest train
tokens (``mmsim.evaluation.dense_retrieval``), with its floor and ceiling.

Example (after the quick start)::

    python tools/benchmarks/dense_retrieval.py \
        configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py \
        work_dirs/quickstart_sim/epoch_8.pth --data-root data/shapes/det
    # the same encoder at its random init; standardised features:
    python tools/benchmarks/dense_retrieval.py \
        configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py random \
        --data-root data/shapes/det --standardise

CONFIG is the pre-training config (any mmselfsup algorithm with an mmcls
ViT or feature-map backbone and a data preprocessor); CHECKPOINT its
checkpoint (``random``: the config's own init, seeded). The data are those
of ``tools/benchmarks/dense_probe.py``. Beside the encoder's mIoU it
prints the raw-pixel floor (the same retrieval, same k, temperature and
standardisation, on each patch's pixels) and the label oracle's ceiling
(each val patch given its own class histogram), and writes
``dense_retrieval.json`` to ``--work-dir``. Label 255 is left out.
"""
import argparse
import sys
from typing import List, Optional

IGNORE_INDEX = 255


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmsim.evaluation.dense_cli import add_dense_data_args
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_dense_data_args(parser, work_dir='work_dirs/dense_retrieval')
    parser.add_argument(
        '--k', type=int, default=30, help='neighbours mixed (default 30)')
    parser.add_argument(
        '--temperature',
        type=float,
        default=0.02,
        help='softmax temperature over the neighbours\' cosines (0.02)')
    parser.add_argument(
        '--standardise',
        action='store_true',
        help='standardise every feature dimension by the memory\'s mean '
        'and std before the search (Vanyan et al.); off: Hummingbird\'s '
        'own protocol')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import mmsim  # noqa: F401  (registers the components)
    from mmsim.evaluation import (extract_patch_features, oracle_miou,
                                  pixel_patch_features, retrieval_miou)
    from mmsim.evaluation.dense_cli import (build_encoder, load_dense_splits,
                                            write_dense_result)
    model = build_encoder(args)
    train, val = load_dense_splits(args)
    feats = [
        extract_patch_features(
            model, data.images, args.backbone, progress=args.progress)
        for data in (train, val)
    ]
    grid = tuple(feats[0].shape[1:3])
    options = dict(
        num_classes=args.num_classes,
        k=args.k,
        temperature=args.temperature,
        standardise_features=args.standardise,
        ignore_index=IGNORE_INDEX)
    result = retrieval_miou(feats[0], train.label_maps, feats[1],
                            val.label_maps, **options)
    pixels = retrieval_miou(
        pixel_patch_features(train.images, grid), train.label_maps,
        pixel_patch_features(val.images, grid), val.label_maps, **options)
    oracle = oracle_miou(val.label_maps, grid, args.num_classes, IGNORE_INDEX)
    size = 'x'.join(map(str, grid))
    print(f'dense retrieval: mIoU {result["mIoU"]:.2f} % on '
          f'{len(val.names)} images ({size} patches each), memory of '
          f'{len(train.names)}; k={args.k}, T={args.temperature}' +
          (', standardised' if args.standardise else ''))
    print(f'  raw pixels (floor): {pixels["mIoU"]:.2f} %, label oracle '
          f'(ceiling): {oracle["mIoU"]:.2f} %')
    write_dense_result(
        args, 'dense_retrieval', result['per_class_iou'].tolist(),
        dict(
            mIoU=result['mIoU'],
            accuracy=result['accuracy'],
            IoU=result['per_class_iou'].tolist(),
            pixels_mIoU=pixels['mIoU'],
            oracle_mIoU=oracle['mIoU'],
            grid=list(grid),
            k=args.k,
            temperature=args.temperature,
            standardise=args.standardise))
    return 0


if __name__ == '__main__':
    sys.exit(main())
