# Copyright (c) mmsim contributors. All rights reserved.
"""Convert an mmsim SIM checkpoint into SIMViTDet backbone weights.

Example::

    python tools/model_converters/sim_to_vitdet.py \
        work_dirs/sim/epoch_8.pth checkpoints/sim_vitdet-backbone.pth
"""
import argparse
import sys

from mmsim.converters import convert_and_save, convert_sim_to_vitdet


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='mmsim SIM checkpoint (.pth)')
    parser.add_argument('dst', help='output backbone checkpoint (.pth)')
    parser.add_argument(
        '--quiet', action='store_true', help='print the summary only')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return convert_and_save(
        args.src,
        args.dst,
        convert_sim_to_vitdet,
        'sim_to_vitdet',
        what="an mmsim SIM checkpoint (tensors under 'state_dict')",
        verbose=not args.quiet)


if __name__ == '__main__':
    sys.exit(main())
