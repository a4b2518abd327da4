# Copyright (c) mmsim contributors. All rights reserved.
"""The quick start's closing table: what pre-training learnt (kNN top-1 and
dense-probe mIoU of the encoder before and after, from the run's logged
scalars) and what it gives detection (box / mask AP of the fine-tune from
the SIM checkpoint and from random init), then the phase times.

Example (what ``tools/quickstart.sh`` runs at its end)::

    python tools/quickstart_summary.py \
        --pretrain-work-dir work_dirs/quickstart_sim \
        --det-metrics work_dirs/quickstart_det/metrics.json \
        --times setup=12 data=15 pretrain=300 detection=280
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Dict, List, Optional


def logged_scalars(work_dir: str) -> List[dict]:
    """The scalar records of the newest run in an mmengine work dir
    (``<timestamp>/vis_data/scalars.json``, one JSON object a line)."""
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under '
                                f'{work_dir!r}: did pre-training run there?')
    with open(files[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def first_and_last(records: List[dict], key: str) -> Optional[tuple]:
    """(first, last) value of a scalar, by step; None if never logged."""
    values = sorted((r['step'], r[key]) for r in records if key in r)
    if not values:
        return None
    return values[0][1], values[-1][1]


def summary_table(records: List[dict],
                  det_metrics: Optional[Dict[str, dict]] = None,
                  times: Optional[Dict[str, float]] = None) -> str:
    """The markdown summary.

    Args:
        records (list[dict]): Pre-training scalars (:func:`logged_scalars`).
        det_metrics (dict, optional): ``{init: {coco/bbox_mAP: ...}}`` as
            ``tools/transfer_quickstart.py --task det`` writes it.
        times (dict, optional): Seconds per phase.

    Returns:
        str: Markdown lines.
    """
    lines = [
        '| measure | SIM encoder before pre-training | SIM pre-trained | '
        "detector's own random init |", '|---|---|---|---|'
    ]
    for key, name in (('knn/top1', 'kNN top-1 (%)'), ('dense/mIoU',
                                                      'dense-probe mIoU (%)')):
        values = first_and_last(records, key)
        if values is not None:
            lines.append(f'| {name} | {values[0]:.1f} | {values[1]:.1f} | '
                         '- |')
    for key, name in (('bbox_mAP', 'box AP'), ('bbox_mAP_50', 'box AP50'),
                      ('segm_mAP', 'mask AP'), ('segm_mAP_50', 'mask AP50')):
        if not det_metrics:
            break
        row = [
            det_metrics.get(init, {}).get(f'coco/{key}')
            for init in ('init', 'SIM', 'random')
        ]
        cells = ['-' if v is None else f'{100 * v:.1f}' for v in row]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    if times:
        total = sum(times.values())
        parts = ', '.join(f'{k} {v / 60:.1f} min' for k, v in times.items())
        lines.append('')
        lines.append(f'Time: {parts}; {total / 60:.1f} min in all.')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pretrain-work-dir', required=True)
    parser.add_argument(
        '--det-metrics',
        help='metrics.json of transfer_quickstart.py --task det')
    parser.add_argument(
        '--times',
        nargs='*',
        default=[],
        metavar='PHASE=SECONDS',
        help='phase times to print')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    det_metrics = None
    if args.det_metrics and osp.isfile(args.det_metrics):
        with open(args.det_metrics) as f:
            det_metrics = json.load(f)
    times = {}
    for item in args.times:
        phase, _, seconds = item.partition('=')
        times[phase] = float(seconds)
    print('\nQuick start summary (the first column is the same encoder at '
          'its initialisation, epoch 0 of the monitor; AP on the generated '
          'val set after the same fine-tune):')
    print(
        summary_table(
            logged_scalars(args.pretrain_work_dir), det_metrics, times))
    return 0


if __name__ == '__main__':
    sys.exit(main())
