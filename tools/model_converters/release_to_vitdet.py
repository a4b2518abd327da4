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

from mmsim.converters import convert_and_save, convert_release_to_vitdet


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help="authors' checkpoint (dict with 'model')")
    parser.add_argument('dst', help='output backbone checkpoint (.pth)')
    parser.add_argument(
        '--quiet', action='store_true', help='print the summary only')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return convert_and_save(
        args.src,
        args.dst,
        convert_release_to_vitdet,
        'release_to_vitdet',
        what="the SIM authors' released checkpoint (tensors under 'model')",
        keys=('model', ),
        verbose=not args.quiet,
        meta=dict(license='CC-BY-NC 4.0 (SIM authors\' weights)'))


if __name__ == '__main__':
    sys.exit(main())
