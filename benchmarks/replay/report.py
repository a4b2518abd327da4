# Copyright (c) mmsim contributors. All rights reserved.
"""The replay's tables, plots and machine line."""
import os
import os.path as osp
import platform
from typing import Dict, List, Optional, Sequence

import torch

#: Table columns: (key in a row's results, header).
FROZEN_COLUMNS = (('linear', 'linear top-1'), ('knn', 'kNN top-1'),
                  ('dense', 'dense probe mIoU'), ('retrieval',
                                                  'dense retrieval mIoU'),
                  ('retrieval_std', 'dense retrieval mIoU (std.)'))
FINETUNE_COLUMNS = (('det', 'box', 'det box AP'),
                    ('det', 'mask', 'det mask AP'), ('seg', 'mIoU',
                                                     'seg mIoU'))


def _seeded(scores: Optional[Sequence[float]]) -> str:
    """``mean [seed 0 / seed 1 / ...]`` or '-'."""
    if not scores:
        return '-'
    mean = sum(scores) / len(scores)
    if len(scores) == 1:
        return f'{mean:.1f}'
    return f'{mean:.1f} [' + ' / '.join(f'{s:.1f}' for s in scores) + ']'


def _value(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.1f}'


def table_lines(headers: Sequence[str],
                rows: Sequence[Sequence[str]]) -> List[str]:
    """A markdown table's lines: ``headers``, the rule under them, then one
    line per row of cells (as many as ``headers``)."""
    return [
        '| ' + ' | '.join(headers) + ' |', '|---' * len(headers) + '|',
        *('| ' + ' | '.join(cells) + ' |' for cells in rows)
    ]


def markdown_table(results: Dict[str, dict],
                   bounds: Optional[dict] = None) -> str:
    """One row per method: the frozen columns, then each fine-tune's val
    score (mean over seeds, each seed in brackets) at the rate its rule
    chose; ``bounds`` adds dense retrieval's raw-pixel floor and label
    oracle as two rows.

    Args:
        results (dict[str, dict]): Row -> frozen column keys (floats) and
            ``det`` / ``seg`` (``{'lr': float, 'seeds': [{metric: %}]}``).
        bounds (dict, optional): :func:`~.frozen.retrieval_bounds`.
    """
    headers = ['method'] + [h for _, h in FROZEN_COLUMNS
                            ] + [h for *_, h in FINETUNE_COLUMNS]
    rows = []
    for name, r in results.items():
        cells = [name] + [_value(r.get(k)) for k, _ in FROZEN_COLUMNS]
        for task, metric, _ in FINETUNE_COLUMNS:
            runs = r.get(task)
            cells.append(
                _seeded([s[metric] for s in runs['seeds']] if runs else None))
        rows.append(cells)
    if bounds:
        blank = ['-'] * len(FINETUNE_COLUMNS)
        pixels = bounds['pixels']
        oracle = f"{bounds['oracle']:.1f}"
        rows.append([
            'raw pixels (retrieval floor)', '-', '-', '-',
            f"{pixels['retrieval']:.1f}", f"{pixels['retrieval_std']:.1f}",
            *blank
        ])
        rows.append([
            'label oracle (retrieval ceiling)', '-', '-', '-', oracle, oracle,
            *blank
        ])
    return '\n'.join(table_lines(headers, rows))


def grid_table(task: str, metric: str, results: Dict[str, dict]) -> str:
    """The learning-rate grid of one task: each row's held-out score at
    every rate, the chosen one in bold."""
    rows = {n: r[task] for n, r in results.items() if r.get(task)}
    if not rows:
        return ''
    lrs = sorted({lr for r in rows.values() for lr in r['grid']})
    lines = []
    for name, r in rows.items():
        cells = [name]
        for lr in lrs:
            cell = _value(r['grid'][lr][metric]) if lr in r['grid'] else '-'
            cells.append(f'**{cell}**' if lr == r['lr'] else cell)
        lines.append(cells)
    return '\n'.join(
        table_lines(['method'] + [f'lr {lr:g}' for lr in lrs], lines))


def plot_curves(curves: Dict[str, Dict[str, List[tuple]]], out: str,
                random_knn: float, num_classes: int,
                random_name: str) -> List[str]:
    """kNN-versus-epoch (one line per method, random init and chance as
    levels) and each method's loss-versus-iteration; returns the paths."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, series in curves.items():
        if series.get('knn/top1'):
            steps, values = zip(*series['knn/top1'])
            ax.plot(steps, values, marker='o', label=name)
    ax.axhline(random_knn, color='grey', ls='--', label=random_name)
    ax.axhline(100 / num_classes, color='grey', ls=':', label='chance')
    ax.set(xlabel='epoch', ylabel='kNN top-1 (%)', title='kNN monitor')
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(osp.join(out, 'knn_vs_epoch.png'))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    if curves:
        fig, axes = plt.subplots(
            1, len(curves), figsize=(3.2 * len(curves), 3), squeeze=False)
        for ax, (name, series) in zip(axes[0], curves.items()):
            if series.get('loss'):
                steps, values = zip(*series['loss'])
                ax.plot(steps, values)
            ax.set(title=name, xlabel='iteration')
            ax.title.set_fontsize(8)
        axes[0][0].set_ylabel('training loss (own scale)')
        fig.tight_layout()
        paths.append(osp.join(out, 'loss_vs_iter.png'))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths


def machine() -> str:
    """CPU model, cores, torch, threads and Python of this run."""
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(
                line.split(':', 1)[1].strip() for line in f
                if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return (f'{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, '
            f'{torch.get_num_threads()} threads, Python '
            f'{platform.python_version()}')
