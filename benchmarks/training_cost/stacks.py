# Copyright (c) mmsim contributors. All rights reserved.
"""The training-cost benchmark's step on both stacks, side by side.

Usage, from the repository root (both environments set up)::

    .venv-current/bin/python -m benchmarks.training_cost.stacks \\
        [--encoder vit-s] [--batch 8] [--rounds 3] [--compile] \\
        [--out docs/benchmarks]

SIM's step (release form) and MAE's (the yardstick), built by the
mmpretrain host from its configs, timed in fresh worker processes of the
frozen stack (``.venv-mmpretrain``: torch 2.0.1) and of the current stack
(``.venv-current``: torch 2.11), interleaved round by round so that both
see the same machine; ``--compile`` adds SIM's step under
``torch.compile`` on the current stack (compilation in the warm-up
steps). Writes ``stacks_cpu.md`` and ``stacks_cpu.json`` to ``--out``.
"""
import argparse
import datetime
import json
import os.path as osp
import statistics
import tempfile
import time
from typing import Dict, List, Optional

from benchmarks.training_cost.images import generate_jpegs
from benchmarks.training_cost.memory import machine_info
from benchmarks.training_cost.models import REPO_ROOT
from benchmarks.training_cost.run import spawn

#: Stack name -> (interpreter, label).
STACKS = {
    'frozen': ('.venv-mmpretrain/bin/python', 'torch 2.0.1'),
    'current': ('.venv-current/bin/python', 'torch 2.11'),
}
METHODS = {'sim_release': 'SIM (release form)', 'mae': 'MAE'}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--encoder', default='vit-s', choices=['vit-s', 'vit-b', 'tiny'])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--compile',
        action='store_true',
        help="also SIM's step under torch.compile (current)")
    parser.add_argument('--timeout', type=int, default=1800)
    parser.add_argument(
        '--out', default=osp.join(REPO_ROOT, 'docs', 'benchmarks'))
    return parser.parse_args(argv)


def variants(args) -> List[Dict]:
    """(stack, method, compile) of every measured variant."""
    rows = [
        dict(stack=stack, method=method, compile_step=False)
        for method in METHODS for stack in STACKS
    ]
    if args.compile:
        rows.append(
            dict(stack='current', method='sim_release', compile_step=True))
    return rows


def measure(args, image_paths: List[str]) -> List[Dict]:
    """Every variant once per round, the order rotated each round."""
    rows = variants(args)
    times: Dict[int, List[float]] = {i: [] for i in range(len(rows))}
    losses: Dict[int, List[List[float]]] = {i: [] for i in range(len(rows))}
    errors: Dict[int, str] = {}
    for round_index in range(args.rounds):
        order = list(range(len(rows)))
        shift = round_index % len(order)
        for index in order[shift:] + order[:shift]:
            row = rows[index]
            task = dict(
                kind='step',
                method=row['method'],
                encoder=args.encoder,
                image_paths=image_paths,
                batch_size=args.batch,
                steps=args.steps,
                warmup=args.warmup,
                host='mmpretrain',
                compile_step=row['compile_step'],
                threads=args.threads)
            result = spawn(
                task,
                args.timeout,
                python=osp.join(REPO_ROOT, STACKS[row['stack']][0]),
                env=dict(MMSIM_HOST='mmpretrain'))
            if 'error' in result:
                errors[index] = result['error']
                continue
            times[index] += result['step_s']
            losses[index].append(result['losses'])
    for index, row in enumerate(rows):
        row.update(step_s=times[index], losses=losses[index])
        if index in errors:
            row['error'] = errors[index]
    return rows


def markdown(args, rows: List[Dict], info: Dict, wall_s: float) -> str:
    """The side-by-side table, ratios to torch 2.0.1's median."""
    medians = {
        (r['stack'], r['method'], r['compile_step']):
        statistics.median(r['step_s']) if r['step_s'] else None
        for r in rows
    }
    lines = [
        '# Training step on both stacks (CPU)', '',
        f"{info.get('cpu', 'CPU')}, {info.get('cores', '?')} cores; "
        f'{args.encoder}, batch {args.batch}, {args.threads} torch '
        f'thread(s); {args.rounds} rounds x {args.steps} timed steps '
        f'after {args.warmup} warm-up per process, variants interleaved; '
        f"{datetime.date.today()}, {wall_s / 60:.1f} min.", '',
        '| method | stack | median s/step | min s/step | vs torch 2.0.1 '
        '| first loss |', '|---|---|---|---|---|---|'
    ]
    for row in rows:
        label = STACKS[row['stack']][1] + (' + torch.compile'
                                           if row['compile_step'] else '')
        if 'error' in row and not row['step_s']:
            lines.append(f"| {METHODS[row['method']]} | {label} | "
                         f"failed: {row['error'][:120]} | | | |")
            continue
        median = medians[(row['stack'], row['method'], row['compile_step'])]
        base = medians[('frozen', row['method'], False)]
        ratio = f'{median / base:.2f}' if base else '-'
        lines.append(f"| {METHODS[row['method']]} | {label} | "
                     f"{median:.3f} | {min(row['step_s']):.3f} | {ratio} | "
                     f"{row['losses'][0][0]:.5f} |")
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate_jpegs(tmp, args.batch)
        rows = measure(args, paths)
    info = machine_info()
    wall_s = time.time() - start
    text = markdown(args, rows, info, wall_s)
    results = dict(args=vars(args), machine=info, rows=rows, wall_s=wall_s)
    with open(osp.join(args.out, 'stacks_cpu.json'), 'w') as file:
        json.dump(results, file, indent=1)
    with open(osp.join(args.out, 'stacks_cpu.md'), 'w') as file:
        file.write(text)
    print(text)
    return results


if __name__ == '__main__':
    main()
