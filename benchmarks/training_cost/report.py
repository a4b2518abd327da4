# Copyright (c) mmsim contributors. All rights reserved.
"""Markdown tables and the loss-memory plot of the training-cost run."""
import statistics
from typing import Dict, List, Optional, Sequence

from .ablations import VARIANTS
from .loss_forms import LOSS_NAMES
from .models import METHOD_NAMES

ENCODER_NAMES = {'vit-s': 'ViT-S/16', 'vit-b': 'ViT-B/16', 'tiny': 'tiny'}


def _table(header: Sequence[str], rows: List[Sequence]) -> str:
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join('---' for _ in header) + '|'
    ]
    lines += [
        '| ' + ' | '.join(str(cell) for cell in row) + ' |' for row in rows
    ]
    return '\n'.join(lines)


def pool_runs(runs: List[Dict]) -> Optional[Dict]:
    """Pool the steps of several runs of one configuration.

    Args:
        runs (list[dict]): Results of ``measure_step_cost`` (runs with an
            ``error`` are skipped).

    Returns:
        dict | None: ``median_s``, ``min_s``, ``steps``, ``peak_mib`` (max
        over runs), ``batch_size``, ``num_params``; None if no run worked.
    """
    ok = [run for run in runs if 'error' not in run]
    if not ok:
        return None
    steps = [s for run in ok for s in run['step_s']]
    return dict(
        median_s=statistics.median(steps),
        min_s=min(steps),
        steps=len(steps),
        peak_mib=max(run['peak_mib'] for run in ok),
        base_mib=min(run['base_mib'] for run in ok),
        batch_size=ok[0]['batch_size'],
        num_params=ok[0]['num_params'],
        runs=len(ok))


def _gib(mib: float) -> str:
    return f'{mib / 1024.:.2f}'


def step_table(pooled: Dict[str, Optional[Dict]], errors: Dict[str,
                                                               str]) -> str:
    """Step-cost table of one encoder with ratios to MAE.

    Args:
        pooled (dict): Method -> :func:`pool_runs` result.
        errors (dict): Method -> error text of failed runs.
    """
    mae = pooled.get('mae')
    rows = []
    for method, stats in pooled.items():
        if stats is None:
            rows.append([METHOD_NAMES[method]] + ['failed'] * 8 +
                        [errors.get(method, '')[:80]])
            continue
        ratio_t = ratio_m = '-'
        if mae:
            ratio_t = f'{stats["median_s"] / mae["median_s"]:.2f}x'
            ratio_m = f'{stats["peak_mib"] / mae["peak_mib"]:.2f}x'
        rows.append([
            METHOD_NAMES[method], f'{stats["num_params"] / 1e6:.1f}',
            f'{stats["median_s"]:.3f}', f'{stats["min_s"]:.3f}',
            f'{stats["batch_size"] / stats["median_s"]:.2f}',
            _gib(stats['peak_mib']),
            _gib(stats['peak_mib'] - stats['base_mib']), ratio_t, ratio_m,
            f'{stats["steps"]} ({stats["runs"]} processes)'
        ])
    return _table([
        'method', 'trainable params (M)', 'median step (s)', 'min step (s)',
        'images/s', 'peak memory (GiB)', 'peak above imports (GiB)',
        'step / MAE', 'memory / MAE', 'timed steps'
    ], rows)


def loss_table(results: List[Dict]) -> str:
    """Dense-loss time/memory table (rows: M, columns: forms)."""
    rows = []
    for res in results:
        if res.get('skipped'):
            time_s = 'skipped'
            extra = (f'~{res["estimate_mib"] / 1024.:.1f} GiB needed '
                     f'(estimate), {res["available_mib"] / 1024.:.1f} GiB '
                     'free')
        elif 'error' in res:
            time_s, extra = 'failed', res['error'][:80]
        else:
            time_s = f'{res["time_s"]:.3f}'
            extra = f'{res["extra_mib"]:.0f}'
        rows.append([
            f'{res["rows"]:,} ({res["rows"] // 196} x 196)',
            LOSS_NAMES[res['form']], time_s, extra
        ])
    return _table(['M rows', 'loss', 'fwd + bwd (s)', 'extra peak (MiB)'],
                  rows)


def pipeline_table(results: Dict[str, Dict]) -> str:
    """Pipeline throughput table, ratios to MoCo v3."""
    ref = results.get('mocov3', {}).get('images_per_s')
    rows = []
    for name, res in results.items():
        ratio = f'{res["images_per_s"] / ref:.2f}x' if ref else '-'
        rows.append([
            res['label'], f'{res["images_per_s"]:.1f}', ratio,
            ', '.join(f'{t:.2f}' for t in res['pass_s']) +
            f' (for {res["images"]} images)'
        ])
    return _table(
        ['pipeline', 'images/s per worker', 'vs MoCo v3', 'passes (s)'], rows)


def profile_table(profile: List[Dict]) -> str:
    """Top operators by self CPU time."""
    rows = [[
        f'`{event["name"]}`', f'{event["self_cpu_ms"]:.1f}',
        f'{event["self_cpu_pct"]:.1f}', f'{event["cpu_total_ms"]:.1f}',
        event['calls']
    ] for event in profile]
    return _table([
        'operator', 'self CPU (ms)', 'self CPU (%)', 'CPU total (ms)', 'calls'
    ], rows)


def ablation_table(pooled: Dict[str, Optional[Dict]]) -> str:
    """One row per reverted change, against mmsim's form."""
    base = pooled.get('baseline')
    rows = []
    for variant, stats in pooled.items():
        reverted, before = VARIANTS[variant]
        if stats is None:
            rows.append([reverted, before, 'failed', '', '', ''])
            continue
        ref = pooled.get('accum2_window') if variant == 'accum2_every' \
            else base
        d_time = d_mem = '-'
        if ref and variant not in ('baseline', 'accum2_window'):
            d_time = f'{100 * (stats["median_s"] / ref["median_s"] - 1):+.1f}%'
            d_mem = f'{100 * (stats["peak_mib"] / ref["peak_mib"] - 1):+.1f}%'
        rows.append([
            reverted, before or '-', f'{stats["median_s"]:.3f}',
            f'{stats["min_s"]:.3f}', d_time,
            _gib(stats['peak_mib']), d_mem
        ])
    return _table([
        'change reverted', '"before" form measured', 'median step (s)',
        'min step (s)', 'step time vs mmsim', 'peak memory (GiB)',
        'memory vs mmsim'
    ], rows)


def plot_loss_memory(results: List[Dict], path: str) -> None:
    """Log-log plot of extra peak memory against M, one line per form.

    Skipped points are drawn hollow at their estimated need.
    """
    import matplotlib
    import matplotlib.ticker
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for form, label in LOSS_NAMES.items():
        measured = [(r['rows'], r['extra_mib']) for r in results
                    if r['form'] == form and 'extra_mib' in r]
        estimated = [(r['rows'], r['estimate_mib']) for r in results
                     if r['form'] == form and r.get('skipped')]
        if measured:
            xs, ys = zip(*measured)
            line, = ax.plot(xs, ys, 'o-', label=label)
            if estimated:
                ex, ey = zip(*estimated)
                ax.plot([xs[-1], *ex], [ys[-1], *ey],
                        'o--',
                        mfc='none',
                        color=line.get_color(),
                        label=f'{label} (skipped: estimate)')
    ax.set_xscale('log')
    ax.set_yscale('log')
    rows = sorted({r['rows'] for r in results})
    ax.set_xticks(rows)
    ax.set_xticklabels([f'{m:,}' for m in rows])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel('rows M (images x 196 tokens), D = 768')
    ax.set_ylabel('extra peak memory, fwd + bwd (MiB)')
    ax.grid(True, which='both', alpha=.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
