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
import sys
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmsim.evaluation.dense_cli import add_dense_data_args
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_dense_data_args(parser, work_dir='work_dirs/dense_probe')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import mmsim  # noqa: F401  (registers the components)
    from mmsim.evaluation import dense_probe_miou
    from mmsim.evaluation.dense_cli import (build_encoder, load_dense_splits,
                                            write_dense_result)
    model = build_encoder(args)
    splits = load_dense_splits(args)
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
    write_dense_result(
        args, 'dense_probe', result['IoU'].tolist(),
        dict(
            mIoU=result['mIoU'],
            IoU=result['IoU'].tolist(),
            grid=list(result['grid'])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
