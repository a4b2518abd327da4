# Copyright (c) mmsim contributors. All rights reserved.
"""Which of the two differences between the replay's common start and
ViTDet's own random init moves the detection score.

The common start (``eval/random.pth`` of a replay work dir) and ViTDet's
own init of the same arch differ in two groups of tensors only (the cls
token aside, which ViTDet does not use): the position embedding (fixed
2-D sin-cos there, truncated normal 0.02 here) and the patch projection
(a xavier-uniform weight there; PyTorch's default ``Conv2d`` init here,
whose weight is half as large). This tool writes the common start
with one group at a time swapped for ViTDet's init and fine-tunes each
at the common start's chosen rate on val, with the replay's seeds
(its fine-tunes are reused when their parameters match)::

    python -m benchmarks.replay.init_split --work-dir work_dirs/replay

and prints a markdown table of box / mask AP by seed.
"""
import argparse
import os.path as osp
from typing import Dict, Optional, Sequence

import torch
from mmengine.model.weight_init import trunc_normal_
from torch import nn

from mmsim.transfer import load_state_dict, save_checkpoint
from . import finetune, report
from .run import NUM_HEADS

#: Variant name -> the encoder tensors it swaps for ViTDet's own init.
VARIANTS = {
    'random position embedding': ('pos_embed', ),
    'default patch projection':
    ('patch_embed.projection.weight', 'patch_embed.projection.bias'),
}


def swap_to_vitdet_init(state: Dict[str, torch.Tensor],
                        names: Sequence[str],
                        seed: int = 0) -> Dict[str, torch.Tensor]:
    """A copy of an encoder state with some tensors drawn as ViTDet's own
    random init draws them.

    Args:
        state (dict[str, torch.Tensor]): ``backbone.*`` tensors, among
            them ``pos_embed`` (1, 1 + G * G, C) and ``patch_embed.
            projection.weight`` (C, 3, P, P) / ``.bias`` (C, ).
        names (sequence[str]): Keys (without ``backbone.``) to redraw:
            ``pos_embed`` gets a truncated normal (std 0.02); the
            projection's weight and bias get ``nn.Conv2d``'s default
            (kaiming uniform with a = sqrt(5); bias uniform in
            +-1 / sqrt(3 * P * P)).
        seed (int): Seed of the draws.

    Returns:
        dict[str, torch.Tensor]: The new state; ``state`` is unchanged.
    """
    out = dict(state)
    torch.manual_seed(seed)
    weight = state['backbone.patch_embed.projection.weight']
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[-1],
                     weight.shape[-1])
    for name in names:
        key = 'backbone.' + name
        if name == 'pos_embed':
            out[key] = trunc_normal_(torch.zeros_like(state[key]), std=.02)
        elif name.startswith('patch_embed.projection.'):
            out[key] = getattr(conv,
                               name.rsplit('.', 1)[1]).detach().to(
                                   state[key].dtype).clone()
        else:
            raise KeyError(f'no ViTDet init known for {name!r}')
    return out


def write_variants(start_path: str, out_dir: str) -> Dict[str, str]:
    """The common start with each group of :data:`VARIANTS` redrawn
    (:func:`swap_to_vitdet_init`), saved atomically.

    Args:
        start_path (str): The replay's ``eval/random.pth`` (``backbone.*``
            keys under ``state_dict``).
        out_dir (str): Folder of the variant checkpoints.

    Returns:
        dict[str, str]: Variant name -> checkpoint path.
    """
    start = load_state_dict(start_path, what='the common start')
    paths = {}
    for variant, names in VARIANTS.items():
        path = osp.join(out_dir, variant.replace(' ', '-') + '.pth')
        save_checkpoint(
            swap_to_vitdet_init(start, names),
            path,
            meta=dict(source=start_path, swapped=list(names)))
        paths[variant] = path
    return paths


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/replay')
    parser.add_argument('--data-root', default='data/replay_shapes/det')
    parser.add_argument('--lr-factor', type=float, default=1.)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--iters', type=int, default=600)
    args = parser.parse_args(argv)
    out = osp.join(args.work_dir, 'init_split')
    paths = write_variants(osp.join(args.work_dir, 'eval', 'random.pth'), out)
    lr = args.lr_factor * finetune.base_lr('det')
    rows = {
        v: dict(slug=v.replace(' ', '-'), encoder=p)
        for v, p in paths.items()
    }
    runs = finetune._runs(rows, {f'{args.lr_factor:g}x': lr}, args.seeds,
                          args.data_root, out, args.iters)
    scores = finetune.run_or_reuse(
        'det', runs, num_heads=NUM_HEADS, workers=2, num_threads=1)
    lines = report.table_lines(
        ['common start with', 'seed', 'box AP', 'mask AP'], [[
            name.split('|')[0],
            name.split('|')[2], f"{100 * s['coco/bbox_mAP']:.1f}",
            f"{100 * s['coco/segm_mAP']:.1f}"
        ] for name, s in sorted(scores.items())])
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
