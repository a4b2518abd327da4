# Copyright (c) mmsim contributors. All rights reserved.
"""Convert an mmsim SIM checkpoint into SIMViTDet backbone weights.

Example::

    python tools/model_converters/sim_to_vitdet.py \
        work_dirs/sim/epoch_10.pth checkpoints/sim_vitdet-backbone.pth
"""
import argparse
import sys

from mmsim.det.converters import (CheckpointConversionError,
                                  convert_sim_to_vitdet, load_state_dict,
                                  save_checkpoint)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='mmsim SIM checkpoint (.pth)')
    parser.add_argument('dst', help='output backbone checkpoint (.pth)')
    parser.add_argument(
        '--quiet', action='store_true', help='print the summary only')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        conversion = convert_sim_to_vitdet(load_state_dict(args.src))
    except CheckpointConversionError as error:
        print(f'error: {args.src}: {error}', file=sys.stderr)
        return 1
    print(conversion.summary(verbose=not args.quiet))
    save_checkpoint(
        conversion.state_dict,
        args.dst,
        meta=dict(converted_from=args.src, converter='sim_to_vitdet'))
    print(f'saved {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
