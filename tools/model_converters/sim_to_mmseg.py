# Copyright (c) mmsim contributors. All rights reserved.
"""Convert an mmsim SIM checkpoint (or, with --release, the SIM authors'
released checkpoint) into weights of mmsegmentation's MAE backbone.

The position embedding keeps its pre-training grid; mmseg's MAE resizes it
when it loads (see mmsim/converters/sim_to_mmseg.py). The released weights
are licensed CC-BY-NC 4.0 (non-commercial use only).

Example::

    python tools/model_converters/sim_to_mmseg.py \
        work_dirs/sim/epoch_1600.pth checkpoints/sim_vit-base-p16_mmseg.pth \
        --config configs/benchmarks/mmsegmentation/ade20k/\
upernet_sim-vit-b-p16_8xb2-amp-160k_ade20k-512x512.py
    python tools/model_converters/sim_to_mmseg.py --release \
        sim_base_1600ep_pretrain.pth checkpoints/sim_vit-base-p16_mmseg.pth
"""
import argparse
import sys

from mmsim.converters import (CheckpointConversionError, convert_and_save,
                              convert_release_to_mmseg, convert_sim_to_mmseg)
from mmsim.converters.conversion import key_report, list_keys
from mmsim.converters.sim_to_mmseg import is_transfer_only


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'src',
        help="mmsim SIM checkpoint, or with --release the authors' "
        "checkpoint (dict with 'model')")
    parser.add_argument('dst', help='output backbone checkpoint (.pth)')
    parser.add_argument(
        '--release',
        action='store_true',
        help="src is the SIM authors' released checkpoint (CC-BY-NC 4.0)")
    parser.add_argument(
        '--config',
        help='mmseg config: build its backbone and check that the converted '
        'tensors load (only its layer scale and relative position bias '
        'missing) before writing')
    parser.add_argument(
        '--quiet', action='store_true', help='print the summary only')
    return parser.parse_args(argv)


def check_against_config(state_dict: dict, config: str) -> None:
    """Load ``state_dict`` into the backbone of the mmseg ``config`` as
    ``MAE.init_weights`` does (position grid resized first); refuse it
    when an encoder tensor is missing, unknown or of another shape."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    cfg = Config.fromfile(config)
    backbone_cfg = cfg.model.backbone.copy()
    backbone_cfg.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope('mmseg'):
        backbone = MODELS.build(backbone_cfg)
    resize = getattr(backbone, 'resize_abs_pos_embed', None)
    tensors = resize(dict(state_dict)) if resize else dict(state_dict)
    own = backbone.state_dict()
    wrong = [
        k for k, v in tensors.items() if k in own and v.shape != own[k].shape
    ]
    if wrong:
        first = wrong[0]
        raise CheckpointConversionError(
            f'the converted tensors do not fit the backbone of {config}: '
            f'other shapes ({len(wrong)}): {list_keys(wrong)} (e.g. {first} '
            f'{tuple(tensors[first].shape)} vs {tuple(own[first].shape)}); '
            'nothing was written')
    result = backbone.load_state_dict(tensors, strict=False)
    missing = [k for k in result.missing_keys if not is_transfer_only(k)]
    report = key_report(missing, result.unexpected_keys)
    if report:
        raise CheckpointConversionError(
            f'the converted tensors do not fit the backbone of {config}: '
            f'{report}; nothing was written')


def main(argv=None) -> int:
    args = parse_args(argv)
    check = None
    if args.config:

        def check(state_dict):
            check_against_config(state_dict, args.config)

    if args.release:
        return convert_and_save(
            args.src,
            args.dst,
            convert_release_to_mmseg,
            'release_to_mmseg',
            what="the SIM authors' released checkpoint (tensors under "
            "'model')",
            keys=('model', ),
            verbose=not args.quiet,
            check=check,
            meta=dict(license='CC-BY-NC 4.0 (SIM authors\' weights)'))
    return convert_and_save(
        args.src,
        args.dst,
        convert_sim_to_mmseg,
        'sim_to_mmseg',
        what="an mmsim SIM checkpoint (tensors under 'state_dict')",
        verbose=not args.quiet,
        check=check)


if __name__ == '__main__':
    sys.exit(main())
