# Copyright (c) mmsim contributors. All rights reserved.
"""Convert the SIM authors' released checkpoint into SIMViTDet backbone
weights.

The released weights are licensed CC-BY-NC 4.0 (non-commercial use only).

Example::

    python tools/model_converters/release_to_vitdet.py \
        sim_base_1600ep_pretrain.pth checkpoints/sim-release_vitdet.pth
"""
import argparse
import sys

from mmsim.det.converters import (CheckpointConversionError,
                                  convert_release_to_vitdet, load_state_dict,
                                  save_checkpoint)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help="authors' checkpoint (dict with 'model')")
    parser.add_argument('dst', help='output backbone checkpoint (.pth)')
    parser.add_argument(
        '--quiet', action='store_true', help='print the summary only')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        conversion = convert_release_to_vitdet(
            load_state_dict(args.src, keys=('model', )))
    except CheckpointConversionError as error:
        print(f'error: {args.src}: {error}', file=sys.stderr)
        return 1
    print(conversion.summary(verbose=not args.quiet))
    save_checkpoint(
        conversion.state_dict,
        args.dst,
        meta=dict(
            converted_from=args.src,
            converter='release_to_vitdet',
            license='CC-BY-NC 4.0 (SIM authors\' weights)'))
    print(f'saved {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
