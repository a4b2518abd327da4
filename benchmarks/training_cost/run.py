# Copyright (c) mmsim contributors. All rights reserved.
"""Training-cost benchmark of SIM against mmselfsup's MAE and MoCo v3.

One command measures, in one run, with every measurement in a fresh
process (interleaved over rounds):

1. step time and peak memory of full training steps (ViT-S/16, ViT-B/16);
2. time and extra memory of dense UniGrad (row-wise vs M x M) and a dense
   InfoNCE at M = 8, 64, 256 x 196 rows;
3. images/s per worker of SIM's and MoCo v3's two-view pipelines;
4. a ``torch.profiler`` table of one SIM ViT-B step;
5. an ablation of SIM's speed changes (each reverted).

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.training_cost.run [--device cpu|cuda]
        [--batch 8] [--out docs/benchmarks]

prints markdown tables and writes ``training_cost.md``,
``training_cost_loss_memory.png`` and ``training_cost.json`` to ``--out``.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

if not __package__:  # run as a file: the benchmarks package is not found
    sys.exit('benchmarks/training_cost/run.py is a module: run it from the '
             'repository root as `python -m benchmarks.training_cost.run ...`')

from benchmarks._progress import StageProgress  # noqa: E402
from benchmarks.training_cost import report  # noqa: E402
from benchmarks.training_cost.ablations import VARIANTS  # noqa: E402
from benchmarks.training_cost.images import generate_jpegs  # noqa: E402
from benchmarks.training_cost.memory import available_ram_mib  # noqa: E402
from benchmarks.training_cost.memory import machine_info  # noqa: E402
from benchmarks.training_cost.models import REPO_ROOT  # noqa: E402
from benchmarks.training_cost.worker import RESULT_PREFIX  # noqa: E402

METHODS = ['sim_release', 'sim_paper', 'mae', 'mocov3']
LOSS_FORMS = ['rowwise', 'mxm', 'infonce']
SECTIONS = ['steps', 'loss', 'pipeline', 'ablation']
#: Free RAM kept back when deciding whether a quadratic loss fits.
RAM_MARGIN_MIB = 3072.
#: Step-time changes within this fraction count as noise in the verdicts
#: (identical SIM configs differ by up to about this much between runs).
NOISE = 0.05


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Training-cost benchmark of SIM vs MAE and MoCo v3.')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        default=None,
        help='default: cuda when available, else cpu')
    parser.add_argument(
        '--batch',
        type=int,
        default=None,
        help='images per step (default 8 on CPU, 128 on '
        'CUDA)')
    parser.add_argument(
        '--rounds',
        type=int,
        default=2,
        help='fresh processes per model (interleaved)')
    parser.add_argument(
        '--steps',
        type=int,
        default=3,
        help='timed steps per process (after warm-up)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=None,
        help='untimed steps per process (2 CPU, 3 CUDA)')
    parser.add_argument('--ablation-steps', type=int, default=5)
    parser.add_argument(
        '--encoders',
        nargs='+',
        default=['vit-s', 'vit-b'],
        choices=['vit-s', 'vit-b', 'tiny'])
    parser.add_argument(
        '--methods', nargs='+', default=METHODS, choices=METHODS)
    parser.add_argument(
        '--sections', nargs='+', default=SECTIONS, choices=SECTIONS)
    parser.add_argument(
        '--ablation-encoder',
        default='vit-b',
        choices=['vit-s', 'vit-b', 'tiny'])
    parser.add_argument(
        '--ablations',
        nargs='+',
        default=list(VARIANTS),
        choices=list(VARIANTS))
    parser.add_argument(
        '--loss-rows',
        type=int,
        nargs='+',
        default=[8 * 196, 64 * 196, 256 * 196])
    parser.add_argument('--loss-dim', type=int, default=768)
    parser.add_argument(
        '--images',
        type=int,
        default=300,
        help='generated JPEGs for the pipeline benchmark')
    parser.add_argument('--profile-rows', type=int, default=15)
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch threads of the step/loss processes '
        '(default 1 on CPU: on a shared machine another '
        "process's load stalls multi-threaded OpenMP "
        'regions and makes timings erratic; all cores on '
        'CUDA)')
    parser.add_argument(
        '--out',
        default=osp.join(REPO_ROOT, 'docs', 'benchmarks'),
        help='where to write the markdown, PNG and JSON')
    parser.add_argument(
        '--timeout',
        type=int,
        default=1800,
        help='seconds per measurement process')
    parser.add_argument(
        '--from-json',
        default=None,
        help='only rewrite the report from a saved '
        'training_cost.json (no measurement)')
    args = parser.parse_args(argv)
    if args.device is None:
        import torch
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.batch is None:
        args.batch = 8 if args.device == 'cpu' else 128
    if args.threads is None:
        args.threads = 1 if args.device == 'cpu' else os.cpu_count()
    if args.warmup is None:
        args.warmup = 2 if args.device == 'cpu' else 3
    return args


def spawn(task: Dict,
          timeout: int,
          python: Optional[str] = None,
          env: Optional[Dict[str, str]] = None) -> Dict:
    """Run one task in a fresh ``worker`` process; its result or error.

    Args:
        task (dict): The worker's task.
        timeout (int): Seconds.
        python (str, optional): Interpreter (default: this one), e.g.
            another stack's environment.
        env (dict, optional): Variables added to this process's.
    """
    cmd = [
        python or sys.executable, '-m', 'benchmarks.training_cost.worker',
        json.dumps(task)
    ]
    try:
        proc = subprocess.run(
            cmd,
            env=dict(os.environ, **(env or {})),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(error=f'timed out after {timeout} s')
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return dict(error=f'exit {proc.returncode}: ' + ' / '.join(tail))


def _log(message: str) -> None:
    print(
        f'[{time.strftime("%H:%M:%S")}] {message}',
        file=sys.stderr,
        flush=True)


def count_stages(args) -> int:
    """Worker processes the selected sections start (one stage each)."""
    per_section = dict(
        pipeline=1,
        steps=args.rounds * len(args.encoders) * len(args.methods),
        ablation=len(args.ablations),
        loss=len(args.loss_rows) * len(LOSS_FORMS))
    return sum(per_section[name] for name in args.sections)


def _stage(stages: Optional[StageProgress], name: str) -> None:
    if stages is not None:
        stages.start(name)


def run_steps(args,
              image_paths: List[str],
              stages: Optional[StageProgress] = None) -> Dict[str, Dict]:
    """Section 1: all methods x encoders, interleaved over rounds."""
    runs = {enc: {m: [] for m in args.methods} for enc in args.encoders}
    for round_index in range(args.rounds):
        for encoder in args.encoders:
            for method in args.methods:
                task = dict(
                    kind='step',
                    method=method,
                    encoder=encoder,
                    image_paths=image_paths[:args.batch],
                    batch_size=args.batch,
                    steps=args.steps,
                    warmup=args.warmup,
                    device=args.device,
                    threads=args.threads)
                _stage(stages, f'steps: round {round_index} {encoder} '
                       f'{method}')
                result = spawn(task, args.timeout)
                _log(f'round {round_index} {encoder} {method}: ' +
                     (result['error'] if 'error' in result else
                      f'steps {[round(s, 3) for s in result["step_s"]]}, '
                      f'peak {result["peak_mib"]:.0f} MiB'))
                runs[encoder][method].append(result)
    return runs


def run_ablations(
        args,
        image_paths: List[str],
        stages: Optional[StageProgress] = None) -> Dict[str, List[Dict]]:
    """Section 5 (+ 4: the profile rides on the baseline run)."""
    runs = {}
    for variant in args.ablations:
        accum = variant.startswith('accum')
        task = dict(
            kind='step',
            method='sim_release',
            encoder=args.ablation_encoder,
            image_paths=image_paths[:args.batch],
            batch_size=args.batch,
            steps=4 if accum else args.ablation_steps,
            warmup=args.warmup + (1 if accum else 0),
            device=args.device,
            variant=variant,
            threads=args.threads,
            time_ema=variant == 'baseline',
            profile_rows=args.profile_rows if variant == 'baseline' else None)
        _stage(stages, f'ablation {variant}')
        result = spawn(task, args.timeout)
        _log(f'ablation {variant}: ' +
             (result['error'] if 'error' in
              result else f'steps {[round(s, 3) for s in result["step_s"]]}, '
              f'peak {result["peak_mib"]:.0f} MiB'))
        runs[variant] = [result]
    return runs


def run_losses(args, stages: Optional[StageProgress] = None) -> List[Dict]:
    """Section 2: each (M, form) in a fresh process; quadratic forms that
    would not fit in free RAM are skipped with their estimated need."""
    results, last = [], {}
    for rows in sorted(args.loss_rows):
        for form in LOSS_FORMS:
            _stage(stages, f'loss {form} M={rows}')
            free = available_ram_mib()
            if form in last:
                prev_rows, prev_mib = last[form]
                power = 1 if form == 'rowwise' else 2
                estimate = prev_mib * (rows / prev_rows)**power
            else:
                estimate = 0.
            if estimate > free - RAM_MARGIN_MIB:
                res = dict(
                    form=form,
                    rows=rows,
                    skipped=True,
                    estimate_mib=estimate,
                    available_mib=free)
            else:
                res = spawn(
                    dict(
                        kind='loss',
                        form=form,
                        rows=rows,
                        dim=args.loss_dim,
                        threads=args.threads), args.timeout)
                res.setdefault('form', form)
                res.setdefault('rows', rows)
                if 'extra_mib' in res:
                    last[form] = (rows, max(res['extra_mib'], 1.))
            _log(f'loss {form} M={rows}: ' + json.dumps({
                k: v
                for k, v in res.items() if k not in ('form', 'rows')
            }))
            results.append(res)
    return results


def _verdict(change: float) -> str:
    if change > NOISE:
        return f'helps: reverting costs {100 * change:.0f}%'
    if change < -NOISE:
        return f'does not help: reverting saves {-100 * change:.0f}%'
    return f'no measurable effect (within {100 * NOISE:.0f}%)'


def build_markdown(args, results: Dict, wall_s: float) -> str:
    """The report: command, machine, then one section per measurement."""
    import mmselfsup
    import torch
    info = machine_info()
    cmd = ' '.join(['.venv/bin/python', '-m', 'benchmarks.training_cost.run'] +
                   results.get('argv', sys.argv[1:])) \
        if results.get('cli') else '(API call)'
    parts = [
        '# Training cost: SIM vs MAE and MoCo v3\n',
        'Generated by `benchmarks/training_cost/run.py`; every number below '
        'comes from this one run (ratios are within the run).\n',
        f'- command: `{cmd}`',
        f'- machine: {info["cpu"]}, {info["cores"]} cores, {info["ram"]} '
        f'RAM; device `{args.device}`' + (f' ({torch.cuda.get_device_name()})'
                                          if args.device == 'cuda' else ''),
        f'- torch {torch.__version__}, mmselfsup {mmselfsup.__version__}; '
        f'torch threads per process: {args.threads}',
        f'- date: {results["date"]}; total wall time '
        f'{wall_s / 60:.1f} min',
        '',
    ]
    steps = results.get('steps')
    pooled_b = None
    if steps:
        parts += [
            '## 1. Training step cost\n',
            f'Batch {args.batch} at 224 x 224 per step, through each '
            "method's own `train_step(data, optim_wrapper)` (data "
            'preprocessor, forward, backward, AdamW with the config\'s '
            'parameter-wise settings and clipping, EMA target where the '
            f'method has one). {args.rounds} fresh processes per model, '
            'alternating between models, each with '
            f'{args.warmup} untimed warm-up step(s) then {args.steps} timed '
            'steps; median and min over all timed steps. ' +
            ('Peak memory: peak RSS of the process (imports included).'
             if args.device == 'cpu' else
             'Peak memory: `torch.cuda.max_memory_allocated`; fp16 '
             'autocast through the configs\' `AmpOptimWrapper`.') +
            ' The batch is produced once by the config\'s train pipeline '
            'from generated JPEGs (data loading is not timed).\n',
            'ViT-S/16 is 384 wide, 12 layers, 6 heads (DeiT-S) for every '
            "method (mmselfsup's own `mocov3-small` arch uses 12 heads of "
            "32; mmcls's `arch='small'` is a 768-wide, 8-layer model). "
            'SIM ViT-S uses a 384-wide neck with 6 heads (the release '
            'recipe\'s neck width equals the encoder width at ViT-B); MAE '
            'keeps its 512-wide, 8-layer decoder. ViT-B/16 is every '
            "config as shipped. On CPU the configs' `AmpOptimWrapper` runs "
            'as an fp32 `OptimWrapper` (mmengine\'s AMP wrapper needs a '
            'GPU).\n',
        ]
        for encoder, per_method in steps.items():
            pooled = {m: report.pool_runs(r) for m, r in per_method.items()}
            errors = {
                m: next((x['error'] for x in r if 'error' in x), '')
                for m, r in per_method.items()
            }
            if encoder == 'vit-b':
                pooled_b = pooled
            parts += [
                f'### {report.ENCODER_NAMES[encoder]}\n',
                report.step_table(pooled, errors), ''
            ]
        parts += [
            'Why SIM costs about twice MAE: counting matrix work in units '
            'of one token through one 768-wide block (x3 for forward + '
            'backward), SIM ViT-B per image runs 3 x (12 x 79 encoder + '
            '2 x 79 projector + 4 x 275 predictor) + 14 x 197 for the '
            'no-grad target (encoder + projector on all of view 2) = 9,376 '
            'units, MAE 3 x (12 x 50 encoder + 8 x 197 x (512/768)^2 '
            'decoder) = 3,901 units: 2.4x, before attention\'s quadratic '
            'part. The measured ratio is below that because the per-'
            'parameter optimiser and memory traffic, which both pay '
            'alike, dilute it (section 4).\n'
        ]
    losses = results.get('loss')
    if losses:
        parts += [
            '## 2. Dense loss memory\n',
            f'Forward + backward of the dense loss over M rows of width '
            f'{args.loss_dim} (fp32), each in a fresh process; extra peak = '
            'peak RSS during the call minus RSS just before it (inputs '
            'allocated; the (M, D) gradient counts). The M x M UniGrad takes '
            'the negative term from the diagonal of the full (M, M) matrix '
            'P F P^T as the authors\' release does; InfoNCE uses (M, M) '
            'cosine logits at temperature 0.2. A quadratic form is skipped '
            'when its estimate (the previous M\'s measurement scaled by '
            f'(M/M_prev)^2) exceeds free RAM minus {RAM_MARGIN_MIB / 1024:.0f}'
            ' GiB.\n',
            report.loss_table(losses),
            '',
            '![extra peak memory against M](training_cost_loss_memory.png)',
            '',
        ]
    pipe = results.get('pipeline')
    if pipe:
        parts += [
            '## 3. Data pipeline\n',
            'Images per second of one worker (in-process, one torch and one '
            f'OpenCV thread) on {args.images} generated JPEGs of about '
            '500 x 375 (smooth colour fields, noise and rectangles, JPEG '
            'quality 90), each pipeline over all images in alternating '
            'passes (best pass reported). SIM: the release config\'s '
            '`SIMLoadImageFromFile` (Pillow decode), `SIMTwoViewCrop` with '
            'both colour pipelines, `SIMBlockMaskGenerator`, pack. MoCo v3: '
            'mmselfsup\'s ViT config (`LoadImageFromFile` with cv2 decode, '
            '`MultiView` of two crop + colour pipelines, pack).\n',
            report.pipeline_table(pipe)
            if 'error' not in pipe else f'failed: {pipe["error"]}', ''
        ]
    ablation = results.get('ablation')
    if ablation:
        pooled_a = {v: report.pool_runs(r) for v, r in ablation.items()}
        if 'baseline' in pooled_a and pooled_b and pooled_b.get(
                'sim_release') and args.ablation_encoder == 'vit-b':
            pooled_a['baseline'] = report.pool_runs(
                ablation['baseline'] + steps['vit-b']['sim_release'])
        base = ablation.get('baseline', [{}])[0]
        if base.get('profile'):
            parts += [
                '## 4. Profile of one SIM step\n',
                f'`torch.profiler` (CPU activities) of one SIM '
                f'{report.ENCODER_NAMES[args.ablation_encoder]} release '
                f'step at batch {args.batch}, top {args.profile_rows} '
                'operators by self CPU time.\n',
                report.profile_table(base['profile']), ''
            ]
        parts += [
            '## 5. Speed changes, measured\n',
            f'SIM {report.ENCODER_NAMES[args.ablation_encoder]} (release '
            f'form), batch {args.batch}: each row reverts one of mmsim\'s '
            'changes (in the benchmark, on the built model or its config; '
            'the numbers computed are the same) and runs in its own '
            f'process ({args.ablation_steps} timed steps). "mmsim" is the '
            'pooled baseline (this section\'s baseline process plus '
            'section 1\'s SIM ViT-B release processes). The two '
            'accumulation rows use 2 micro-batches per optimiser step '
            '(median over 4 micro-batches) and compare with each other.\n',
            report.ablation_table(pooled_a), ''
        ]
        verdicts = []
        for variant, stats in pooled_a.items():
            ref = pooled_a.get('accum2_window') \
                if variant == 'accum2_every' else pooled_a.get('baseline')
            if variant in ('baseline', 'accum2_window') or not stats \
                    or not ref:
                continue
            d_mem = 100 * (stats['peak_mib'] / ref['peak_mib'] - 1)
            verdicts.append(f'- {VARIANTS[variant][0]}: ' +
                            _verdict(stats['median_s'] / ref['median_s'] - 1) +
                            f'; memory {d_mem:+.1f}%')
        if base.get('ema'):
            ema = base['ema']
            verdicts.append(
                f'- one target update alone (best of 5): foreach '
                f'{ema["foreach_ms"]:.1f} ms vs per-parameter loop '
                f'{ema["loop_ms"]:.1f} ms')
            ref = pooled_a.get('baseline')
            if ref and 'accum2_every' in pooled_a:
                share = ema['foreach_ms'] / 20 / ref['median_s']
                verdicts.append(
                    '- updating the target once per window instead of at '
                    'every micro-batch saves one update per extra '
                    f'micro-batch: {ema["foreach_ms"]:.0f} ms / 2 per '
                    f'micro-batch = {share:.1f}% of a step, below this '
                    "machine's step-time noise")
        parts += verdicts + ['']
    parts += targets_section(args, results, pooled_b)
    return '\n'.join(parts) + '\n'


def targets_section(args, results: Dict, pooled_b: Optional[Dict]) -> list:
    """Targets of the issue against this run's numbers (reported only)."""
    rows = []
    if pooled_b and pooled_b.get('sim_release') and pooled_b.get('mae'):
        sim, mae = pooled_b['sim_release'], pooled_b['mae']
        r_t = sim['median_s'] / mae['median_s']
        r_m = sim['peak_mib'] / mae['peak_mib']
        rows.append([
            f'SIM ViT-B step time / MAE (batch {args.batch})', '<= 1.97x',
            f'{r_t:.2f}x', 'yes' if r_t <= 1.97 else 'no'
        ])
        rows.append([
            'SIM ViT-B peak memory / MAE', '<= 1.39x', f'{r_m:.2f}x',
            'yes' if r_m <= 1.39 else 'no'
        ])
    for res in results.get('loss') or []:
        if res['form'] == 'rowwise' and res['rows'] == 256 * 196 and \
                'extra_mib' in res:
            rows.append([
                'dense UniGrad extra memory at 50,176 x 768', '< 1024 MiB',
                f'{res["extra_mib"]:.0f} MiB',
                'yes' if res['extra_mib'] < 1024 else 'no'
            ])
    pipe = results.get('pipeline') or {}
    if 'sim' in pipe and 'mocov3' in pipe:
        ratio = pipe['sim']['images_per_s'] / pipe['mocov3']['images_per_s']
        rows.append([
            'two-view + mask pipeline / MoCo v3 images/s', '>= 1.00x',
            f'{ratio:.2f}x', 'yes' if ratio >= 1 else 'no'
        ])
    if not rows:
        return []
    return [
        '## Targets (reported, not asserted)\n',
        report._table(['target', 'wanted', 'measured', 'met'], rows), ''
    ]


def run_benchmark(args, cli: bool = False) -> Dict:
    """Run the selected sections; write the report files to ``args.out``.

    Returns:
        dict: All raw results plus ``markdown``.
    """
    start = time.time()
    results: Dict = dict(
        date=datetime.datetime.now().strftime('%Y-%m-%d %H:%M'),
        cli=cli,
        args=vars(args),
        argv=sys.argv[1:])
    # a line per worker process with its ETA, to stderr beside the _log
    stages = StageProgress(count_stages(args), file=sys.stderr) \
        if count_stages(args) else None
    with tempfile.TemporaryDirectory(prefix='mmsim_bench_') as tmp:
        image_paths = generate_jpegs(tmp, max(args.images, args.batch))
        if 'pipeline' in args.sections:
            _stage(stages, 'pipeline throughput')
            results['pipeline'] = spawn(
                dict(kind='pipeline', image_paths=image_paths[:args.images]),
                args.timeout)
            _log(f'pipeline: {json.dumps(results["pipeline"])[:300]}')
        if 'steps' in args.sections:
            results['steps'] = run_steps(args, image_paths, stages)
        if 'ablation' in args.sections:
            results['ablation'] = run_ablations(args, image_paths, stages)
    if 'loss' in args.sections:
        results['loss'] = run_losses(args, stages)
    if stages is not None:
        stages.finish()
    results['wall_s'] = time.time() - start
    os.makedirs(args.out, exist_ok=True)
    with open(osp.join(args.out, 'training_cost.json'), 'w') as f:
        json.dump(results, f, indent=1)
    results['markdown'] = write_report(args, results)
    return results


def write_report(args, results: Dict) -> str:
    """Write ``training_cost.md`` and the plot to ``args.out``.

    Returns:
        str: The markdown.
    """
    markdown = build_markdown(args, results, results['wall_s'])
    os.makedirs(args.out, exist_ok=True)
    with open(osp.join(args.out, 'training_cost.md'), 'w') as f:
        f.write(markdown)
    if results.get('loss'):
        report.plot_loss_memory(
            results['loss'], osp.join(args.out,
                                      'training_cost_loss_memory.png'))
    return markdown


def main() -> None:
    args = parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
        saved = argparse.Namespace(**results['args'])
        saved.out = args.out
        print(write_report(saved, results))
        return
    results = run_benchmark(args, cli=True)
    print(results['markdown'])


if __name__ == '__main__':
    main()
