# Copyright (c) mmsim contributors. All rights reserved.
"""How far pre-training and fine-tuning move each encoder block, and how
the fine-tunes' training loss falls: the evidence behind the replay's
reading when a pre-trained row does not beat the common start.

Reads what a replay run left in its work dir (no training)::

    python -m benchmarks.replay.drift --work-dir work_dirs/replay

prints, as markdown tables: each row's pre-trained encoder against the
common start (relative change per block), and for every fine-tune at its
chosen rate on val (seed 0) the relative change of each encoder block from
the converted start to the last checkpoint and the mean training loss per
window of iterations.
"""
import argparse
import glob
import json
import os.path as osp
import re
import warnings
from collections import OrderedDict
from typing import Dict, List

import torch

from mmsim.transfer import load_state_dict
from mmsim.transfer.checkpoint_io import UnbuiltObjectsWarning
from .report import table_lines

LAYER = re.compile(r'(?:^|\.)layers\.(\d+)\.')


def _strip(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``backbone.`` prefixes removed; only the backbone's keys kept when
    the state holds a whole model."""
    if any(k.startswith('backbone.') for k in state):
        return {
            k[len('backbone.'):]: v
            for k, v in state.items() if k.startswith('backbone.')
        }
    return state


def relative_drift(start: Dict[str, torch.Tensor],
                   end: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """||end - start|| / ||start|| (Frobenius, over the weight matrices:
    tensors of 2 or more dims, position embeddings left out) per block
    (``'block i'``) and for the rest (``'stem'``: patch projection).

    Args:
        start (dict): Encoder state (``backbone.`` prefix optional).
        end (dict): The same encoder later (a whole model's state is
            fine: its ``backbone.*`` keys are used).

    Returns:
        dict: group -> relative change, blocks in order, ``'stem'`` last.
    """
    start, end = _strip(start), _strip(end)
    sums: Dict[str, List[float]] = {}
    for key, value in start.items():
        if value.dim() < 2 or 'pos_embed' in key:
            continue
        if key not in end:
            raise KeyError(f'drift: {key!r} of the start is not in the end '
                           'state')
        match = LAYER.search(key)
        group = f'block {match.group(1)}' if match else 'stem'
        acc = sums.setdefault(group, [0., 0.])
        acc[0] += float((end[key].float() - value.float()).pow(2).sum())
        acc[1] += float(value.float().pow(2).sum())
    order = sorted(
        (g for g in sums if g != 'stem'),
        key=lambda g: int(g.split()[1])) + ['stem'] * ('stem' in sums)
    return OrderedDict((g, (sums[g][0] / sums[g][1])**0.5) for g in order)


def loss_windows(log_path: str, window: int) -> List[float]:
    """Mean training ``loss`` of an mmengine text log per window of
    ``window`` iterations (iterations 1..window, window+1..2 window, ...)."""
    means: Dict[int, List[float]] = {}
    with open(log_path) as f:
        for line in f:
            if 'Iter(train)' not in line:
                continue
            it = int(re.search(r'\[\s*(\d+)/\d+\]', line).group(1))
            loss = float(re.search(r'\sloss: ([-0-9.e+]+)', line).group(1))
            means.setdefault((it - 1) // window, []).append(loss)
    return [sum(v) / len(v) for _, v in sorted(means.items())]


def _fmt(values) -> List[str]:
    return [f'{v:.3f}' for v in values]


def report(work_dir: str, window: int = 100) -> str:
    """The two tables for a replay work dir (markdown)."""
    common = load_state_dict(osp.join(work_dir, 'common_init.pth'))
    pretrained = {
        osp.basename(path)[:-4]: relative_drift(common, load_state_dict(path))
        for path in sorted(glob.glob(osp.join(work_dir, 'eval', '*.pth')))
    }
    groups = max(pretrained.values(), key=len)
    lines = [
        'Pre-training: relative change of each block from the common '
        'start', '',
        *table_lines(['row', *groups], [[name, *_fmt(drift.values())]
                                        for name, drift in pretrained.items()])
    ]
    for task in ('det', 'seg'):
        runs = [  # finished ones only
            osp.dirname(p) for p in sorted(
                glob.glob(
                    osp.join(work_dir, task, 'val', '*', '*_seed0',
                             'metrics.json')))
        ]
        if not runs:
            continue
        table = []
        for run in runs:
            with open(osp.join(run, 'replay_params.json')) as f:
                iters = json.load(f)['max_iters']
            start = glob.glob(osp.join(run, 'sim_*_backbone.pth'))
            end = osp.join(run, f'iter_{iters}.pth')
            log = sorted(glob.glob(osp.join(run, '*', '*.log')))[-1]
            with warnings.catch_warnings():  # mmdet's runner state holds a
                # collections.Counter: not built, and not needed here
                warnings.simplefilter('ignore', UnbuiltObjectsWarning)
                drift = relative_drift(
                    load_state_dict(start[0]),
                    load_state_dict(end)) if start else {}
            table.append(('/'.join(run.split(osp.sep)[-2:]), drift,
                          loss_windows(log, window)))
        groups = max((t[1] for t in table), key=len)
        windows = max(len(t[2]) for t in table)
        heads = ['row', *groups] + [
            f'loss {k * window + 1}-{(k + 1) * window}' for k in range(windows)
        ]
        lines += [
            '', f'{task} fine-tunes on val (seed 0): relative change '
            f'from the start; mean loss per {window} iterations', '',
            *table_lines(heads, [[
                name, *(f'{drift[g]:.3f}' if g in drift else '-'
                        for g in groups), *_fmt(losses)
            ] for name, drift, losses in table])
        ]
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/replay')
    parser.add_argument('--window', type=int, default=100)
    args = parser.parse_args(argv)
    print(report(args.work_dir, args.window))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
