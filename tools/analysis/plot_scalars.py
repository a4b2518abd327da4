# Copyright (c) mmsim contributors. All rights reserved.
"""Plot scalars of an mmengine work dir (``*/vis_data/scalars.json``).

Example (after the quick start)::

    python tools/analysis/plot_scalars.py work_dirs/quickstart_sim \
        --keys knn/top1 dense/mIoU --out docs/images/quickstart_monitor.png

``scalars.json`` (mmengine's ``LocalVisBackend``) holds one JSON object
per line. The training lines (``loss``, ``lr``, ...) carry ``iter`` and
``epoch`` and their ``step`` is the iteration; the monitor's lines
(``knn/top1``, ``dense/mIoU``) carry only ``step``, which is the epoch.
Both are put on one axis: ``--x epoch`` (the default; iteration ``i`` is
epoch ``i / iterations per epoch``) or ``--x iter`` (epoch ``e`` is
iteration ``e * iterations per epoch``). One panel per key, sharing the
x axis. A work dir holds one ``<timestamp>/`` per run; the latest is read
unless ``--run`` names another.

A baseline logged beside a plotted scalar is drawn on its panel as a
dashed level: ``knn/pixels`` (the kNN monitor's kNN on raw pixels, logged
once at the start) on the ``knn/top1`` panel.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

Series = Tuple[List[float], List[float]]
#: Scalar drawn as a level on another's panel: baseline -> plotted key.
BASELINES = {'knn/pixels': 'knn/top1'}


class ScalarsError(ValueError):
    """A missing file or key, with a message naming it."""


def find_scalars(work_dir: str, run: Optional[str] = None) -> str:
    """The ``scalars.json`` of a run of ``work_dir``.

    Args:
        work_dir (str): An mmengine work dir, a run's folder in it, or a
            ``scalars.json`` itself.
        run (str, optional): The run's folder name (its timestamp).
            Defaults to the latest.

    Returns:
        str: Path of the file.
    """
    if osp.isfile(work_dir):
        return work_dir
    pattern = osp.join(work_dir, run or '*', 'vis_data', 'scalars.json')
    files = sorted(glob.glob(pattern))
    if not files and run is None:  # a run's folder given
        files = glob.glob(osp.join(work_dir, 'vis_data', 'scalars.json'))
    if not files:
        runs = sorted(
            osp.basename(osp.dirname(osp.dirname(p))) for p in glob.glob(
                osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
        raise ScalarsError(
            f'no {pattern}: mmengine writes one per run when the config '
            "has LocalVisBackend in visualizer.vis_backends; runs there: "
            f'{", ".join(runs) or "none"}')
    return files[-1]


def read_records(path: str) -> List[dict]:
    """The JSON objects of a ``scalars.json``, one a line (blank and cut
    last lines of a running job are skipped)."""
    records = []
    with open(path) as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def scalar_keys(records: Sequence[dict]) -> List[str]:
    """Keys holding values, in order of first appearance (the step
    counters ``step``, ``iter`` and ``epoch`` left out)."""
    keys: Dict[str, None] = {}
    for record in records:
        for key in record:
            if key not in ('step', 'iter', 'epoch'):
                keys.setdefault(key)
    return list(keys)


def iters_per_epoch(records: Sequence[dict]) -> Optional[float]:
    """Iterations per epoch of the training lines: the distance of the
    first logged iterations of two epochs over their epoch distance, or
    (one epoch logged) its last logged iteration; None without lines that
    carry both ``iter`` and ``epoch``."""
    first: Dict[int, int] = {}
    last = 0
    for record in records:
        if 'iter' in record and 'epoch' in record:
            first.setdefault(int(record['epoch']), int(record['iter']))
            last = max(last, int(record['iter']))
    if not first:
        return None
    epochs = sorted(first)
    if len(epochs) > 1:
        return (first[epochs[-1]] - first[epochs[0]]) / (
            epochs[-1] - epochs[0])
    return last / epochs[0]


def collect(records: Sequence[dict], keys: Sequence[str], x: str,
            path: str) -> Dict[str, Series]:
    """(x, value) series of ``keys`` on one axis.

    Args:
        records (Sequence[dict]): The lines of ``path``.
        keys (Sequence[str]): Scalars to collect.
        x (str): ``'epoch'`` or ``'iter'``.
        path (str): The file, for the messages.

    Returns:
        dict[str, tuple[list, list]]: Per key its xs and values.
    """
    present = scalar_keys(records)
    missing = [key for key in keys if key not in present]
    if missing:
        raise ScalarsError(f'{path} has no {", ".join(missing)}; its scalars: '
                           f'{", ".join(present) or "none"}')
    per_epoch = iters_per_epoch(records)
    series: Dict[str, Series] = {key: ([], []) for key in keys}
    for record in records:
        training = 'iter' in record
        if x == 'iter':
            pos = record['iter'] if training else None
            if not training and per_epoch is not None:
                pos = record['step'] * per_epoch
        elif training:
            pos = None if per_epoch is None else record['iter'] / per_epoch
        else:
            pos = record['step']
        for key in keys:
            if key in record:
                if pos is None:
                    raise ScalarsError(
                        f'{path}: cannot put {key} on the {x} axis (no '
                        'training lines with both iter and epoch); try '
                        f'--x {"epoch" if x == "iter" else "iter"}')
                series[key][0].append(float(pos))
                series[key][1].append(float(record[key]))
    return series


def baseline_levels(records: Sequence[dict],
                    keys: Sequence[str]) -> Dict[str, Tuple[str, float]]:
    """The baselines of the plotted keys that the records hold.

    Args:
        records (Sequence[dict]): The lines of a ``scalars.json``.
        keys (Sequence[str]): The plotted scalars.

    Returns:
        dict[str, tuple[str, float]]: Plotted key -> (baseline name, its
        last logged value), for the keys of :data:`BASELINES`' values.
    """
    levels = {}
    for record in records:
        for baseline, key in BASELINES.items():
            if key in keys and baseline in record:
                levels[key] = (baseline, float(record[baseline]))
    return levels


def plot(series: Dict[str, Series],
         x: str,
         out: str,
         title: str,
         levels: Optional[Dict[str, Tuple[str, float]]] = None) -> None:
    """One panel per key, one above the other, written as a PNG; a
    ``levels`` entry (key -> (name, value)) is a dashed line on the key's
    panel."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(
        len(series),
        1,
        figsize=(6, 2.2 * len(series) + 0.6),
        sharex=True,
        squeeze=False)
    for ax, (key, (xs, ys)) in zip(axes[:, 0], series.items()):
        ax.plot(xs, ys, marker='o' if len(xs) <= 50 else None, ms=4, label=key)
        if key in (levels or {}):
            name, value = levels[key]
            ax.axhline(
                value, color='grey', ls='--', label=f'{name} {value:.1f}')
            ax.legend(fontsize=7, loc='best')
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(x)
    axes[0, 0].set_title(title, fontsize=9)
    fig.tight_layout()
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'work_dir',
        help='mmengine work dir (or a run folder, or a '
        'scalars.json)')
    parser.add_argument(
        '--keys',
        nargs='+',
        default=['knn/top1', 'dense/mIoU'],
        help='scalars to plot (default: knn/top1 dense/mIoU)')
    parser.add_argument('--x', choices=['epoch', 'iter'], default='epoch')
    parser.add_argument(
        '--run', help='run folder (timestamp); default: '
        'the latest')
    parser.add_argument(
        '--out', help='PNG to write (default: WORK_DIR/scalars.png)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        path = find_scalars(args.work_dir, args.run)
        records = read_records(path)
        series = collect(records, args.keys, args.x, path)
    except ScalarsError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    out = args.out or osp.join(
        args.work_dir if osp.isdir(args.work_dir) else osp.dirname(path),
        'scalars.png')
    levels = baseline_levels(records, args.keys)
    plot(series, args.x, out, path, levels)
    drawn = ''.join(f'; {name} {value:.2f} drawn on the {key} panel'
                    for key, (name, value) in levels.items())
    print(f'saved {out} (' + ', '.join(f'{key}: {len(xs)} points'
                                       for key, (xs, _) in series.items()) +
          f'{drawn}; from {path})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
