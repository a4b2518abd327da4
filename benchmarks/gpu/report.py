# Copyright (c) mmsim contributors. All rights reserved.
"""The GPU check's results as markdown tables."""
from typing import Dict, List

from .amp_checks import SYNC_CHECKS


def _fmt(value, spec: str = '.3f', missing: str = '-') -> str:
    return missing if value is None else format(value, spec)


def step_table(results: Dict) -> List[str]:
    lines = [
        '| precision | batch | step (s) | images/s | peak memory (GiB) '
        '| TFLOP/step | TFLOP/s | MFU |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for entry in results['precisions']:
        for row in entry['rows']:
            if 'search' in row:
                continue
            name = f"{row['batch']}" + (' (largest)'
                                        if row.get('largest') else '')
            if 'skipped' in row:
                lines.append(f"| {entry['precision']} | {name} | "
                             f"{row['skipped']} | | | | | |")
                continue
            mfu = row.get('mfu')
            lines.append(
                f"| {entry['precision']} | {name} | {row['step_s']:.4f} | "
                f"{row['images_per_s']:.1f} | {_fmt(row['peak_gib'], '.2f')}"
                f" | {_fmt(row['flops'] and row['flops'] / 1e12)} | "
                f"{_fmt(row['tflops_per_s'], '.2f')} | "
                f"{_fmt(None if mfu is None else 100 * mfu, '.1f')}"
                f"{'' if mfu is None else ' %'} |")
    return lines


def check_lines(checks: Dict) -> List[str]:
    agreement = checks['amp_loss_agreement']
    lines = [
        '| check | result |',
        '|---|---|',
    ]
    for name in ('fp32', 'bf16', 'fp16'):
        if agreement['rel_diff'][name] is None:
            lines.append(f'| loss {name} vs fp32 | skipped (no {name} '
                         'autocast on this device and torch) |')
            continue
        lines.append(f'| loss {name} vs fp32 (relative) | '
                     f"{agreement['rel_diff'][name]:.2e} "
                     f"(loss {agreement['loss'][name]:.6f}) |")
    for name in SYNC_CHECKS + ('fp16_overflow', ):
        check = checks[name]
        if 'skipped' in check:
            text = f"skipped ({check['skipped']})"
        elif name == 'fp16_overflow':
            text = ('pass' if check['ok'] else 'FAIL') + (
                f": step skipped {check['skipped']}, weights finite "
                f"{check['finite']}, scale {check['scale_before']:g} -> "
                f"{check['scale_after']:g}, next step trains "
                f"{check['recovered']}")
        else:
            text = 'no sync' if check['ok'] else (
                f"sync: {check['error']} at {check['where']}")
        lines.append(f'| {name} | {text} |')
    return lines


def markdown(results: Dict) -> str:
    env = results['environment']
    head = ', '.join(f'{key} {value}' for key, value in env.items())
    searches = [
        f"- {entry['precision']}: largest-batch search (batch, fits): " +
        ', '.join(f'{b} {"yes" if ok else "no"}' for b, ok in row['search'])
        for entry in results['precisions'] for row in entry['rows']
        if 'search' in row
    ]
    lines = [
        '# GPU check', '', f'{head}.', '', f"Config `{results['config']}`"
        f"{' (reduced: 1 block)' if results['reduced'] else ''}; "
        f"median of {results['steps']} steps after {results['warmup']} "
        f"warm-up; wall time {results['wall_s']:.0f} s.", '',
        *[f'Note: {note}.'
          for note in results.get('notes', [])], '', *step_table(results), '',
        *searches, '', *check_lines(results['checks']), ''
    ]
    return '\n'.join(lines)
