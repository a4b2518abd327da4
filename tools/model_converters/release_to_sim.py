# Copyright (c) mmsim contributors. All rights reserved.
"""Convert the SIM authors' released checkpoint into an mmsim SIM
checkpoint (online encoder, neck and momentum target), to continue
pre-training or evaluate it with mmsim.

The released weights are licensed CC-BY-NC 4.0 (non-commercial use only).

Example::

    python tools/model_converters/release_to_sim.py \
        sim_base_1600ep_pretrain.pth checkpoints/sim-release_mmsim.pth \
        --config configs/sim/sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py
"""
import argparse
import sys

from mmsim.converters import (CheckpointConversionError, convert_and_save,
                              convert_release_to_sim)
from mmsim.converters.conversion import key_report


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help="authors' checkpoint (dict with 'model')")
    parser.add_argument('dst', help='output mmsim SIM checkpoint (.pth)')
    parser.add_argument(
        '--config',
        help='SIM config: build its model and check that the converted '
        'tensors load with no missing or unexpected keys before writing')
    parser.add_argument(
        '--quiet', action='store_true', help='print the summary only')
    return parser.parse_args(argv)


def check_against_config(state_dict: dict, config: str) -> None:
    """Load ``state_dict`` strictly into the model of ``config``."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmselfsup.registry import MODELS

    import mmsim  # noqa: F401  (registers SIM)
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        model = MODELS.build(cfg.model)
    result = model.load_state_dict(state_dict, strict=False)
    report = key_report(result.missing_keys, result.unexpected_keys)
    if report:
        raise CheckpointConversionError(
            f'the converted tensors do not fit the model of {config}: '
            f'{report}; nothing was written')


def main(argv=None) -> int:
    args = parse_args(argv)
    check = None
    if args.config:
        def check(state_dict):
            check_against_config(state_dict, args.config)

    return convert_and_save(
        args.src,
        args.dst,
        convert_release_to_sim,
        'release_to_sim',
        what="the SIM authors' released checkpoint (tensors under 'model')",
        keys=('model', ),
        verbose=not args.quiet,
        check=check,
        meta=dict(license='CC-BY-NC 4.0 (SIM authors\' weights)'))


if __name__ == '__main__':
    sys.exit(main())
