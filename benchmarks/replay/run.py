# Copyright (c) mmsim contributors. All rights reserved.
"""Replay the paper's comparison on generated data, on a CPU, in one command.

Every row starts from one encoder initialisation (``rows.py``): MoCo v3,
MAE, SIM in the paper's form (global + dense), SIM global only (its dense
term off) and SIM as released (dense only) pre-train the same ViT-Tiny-sized
encoder (192 wide, 6 layers, patch 16, 96 px) from it with the same epochs,
batch and optimiser (``benchmarks/replay/configs/``, each through ``mim
train mmselfsup``, kNN monitor on); ``random init`` is that start itself.
Each encoder is then measured frozen (``frozen.py``: kNN and linear top-1,
the linear dense probe, dense nearest-neighbour retrieval raw and
standardised, with the retrieval's raw-pixel floor and label-oracle
ceiling) and fine-tuned (``finetune.py``: the tiny Mask R-CNN and the tiny
UperNet on the generated COCO-format set, every row by one learning-rate
rule: the best of one grid on held-out *training* images, then one run per
seed on val), with the task's own random init as one more row.
Writes ``results.md`` (command, machine, wall time and where it went, the
table, the learning-rate grids), ``results.json`` and the kNN / loss plots
under ``--out``.

Example (from the repository root)::

    python -m benchmarks.replay.run --out docs/benchmarks/replay
    python -m benchmarks.replay.run --quick --out /tmp/replay  # minutes
"""
import argparse
import datetime
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

if not __package__:  # run as a file: the benchmarks package is not found
    sys.exit('benchmarks/replay/run.py is a module: run it from the '
             'repository root as `python -m benchmarks.replay.run ...`')

import torch  # noqa: E402

from benchmarks._progress import StageProgress  # noqa: E402
from . import finetune, frozen, report, rows  # noqa: E402

REPO = finetune.REPO
#: The encoders' heads (the replay's ViT-Tiny: 192 wide, 3 heads of 64).
NUM_HEADS = 3
#: --quick: every stage on tiny data, for the tests.
QUICK = dict(
    num_train=64,
    num_val=32,
    num_det_train=24,
    num_det_val=8,
    num_heldout=8,
    epochs=1,
    det_iters=2,
    seg_iters=2,
    lr_factors=[0.5, 2.],
    lr_extensions=0,
    data_root='data/replay_shapes_quick')
#: Relative stage costs for the ETA: a pre-training (about 5 min), the
#: frozen evaluations of one encoder, one fine-tune (at 2 workers).
PRETRAIN_WEIGHT, EVAL_WEIGHT = 1., 0.15
FINETUNE_WEIGHT = dict(det=0.5, seg=0.7)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='docs/benchmarks/replay')
    parser.add_argument('--work-dir', default='work_dirs/replay')
    parser.add_argument('--data-root', default='data/replay_shapes')
    parser.add_argument('--num-train', type=int, default=3000)
    parser.add_argument('--num-val', type=int, default=600)
    # the quick start's detection set (tools/data/generate_shapes.py)
    parser.add_argument('--num-det-train', type=int, default=800)
    parser.add_argument('--num-det-val', type=int, default=200)
    parser.add_argument(
        '--num-heldout',
        type=int,
        default=200,
        help='training detection images that choose the learning rates')
    parser.add_argument(
        '--epochs', type=int, default=8, help='pre-training epochs')
    parser.add_argument('--det-iters', type=int, default=600)
    parser.add_argument('--seg-iters', type=int, default=600)
    parser.add_argument(
        '--lr-factors',
        type=float,
        nargs='+',
        default=[0.5, 1., 2.],
        help="the fine-tunes' learning-rate grid, times each config's rate")
    parser.add_argument(
        '--lr-extensions',
        type=int,
        default=2,
        help="how often a row's grid may grow past an edge where its best "
        'rate lies (twice or half that rate, on held-out images)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--tasks', nargs='*', default=['det', 'seg'], choices=['det', 'seg'])
    parser.add_argument(
        '--methods',
        nargs='+',
        default=list(rows.METHODS),
        choices=list(rows.METHODS),
        help='pre-training methods (random init is always evaluated)')
    parser.add_argument(
        '--skip-pretrain',
        action='store_true',
        help='reuse the checkpoints already in --work-dir')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='go on where an earlier run of the same command stopped: '
        'reuse each pre-training whose final checkpoint exists and whose '
        'start config is unchanged (finished fine-tunes with the same '
        'parameters and encoder bytes are always reused)')
    parser.add_argument(
        '--own-init',
        action='store_true',
        help="fine-tune one more row: the task's own random init of the "
        'backbone arch (ViTDet\'s, mmseg MAE\'s)')
    parser.add_argument('--num-threads', type=int, default=2)
    parser.add_argument(
        '--workers',
        type=int,
        default=2,
        help='fine-tunes at once, one process and torch thread each '
        '(1: one after another with --num-threads)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny data, 1 epoch, 2-iteration fine-tunes on a 2-rate grid: '
        'checks every stage in minutes (' +
        ', '.join(f'{k}={v}' for k, v in QUICK.items()) + ')')
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    return args


def pretrain(name: str, start_config: str, work_dir: str, data_root: str,
             epochs: int) -> str:
    """``mim train mmselfsup`` one row from the common start; returns its
    last checkpoint."""
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    root = osp.join(data_root, '')
    options = [
        f'train_dataloader.dataset.data_root={root}',
        f'custom_hooks.0.train_dataloader.dataset.data_root={root}',
        f'custom_hooks.0.val_dataloader.dataset.data_root={root}',
        f'train_cfg.max_epochs={epochs}',
        f'default_hooks.checkpoint.interval={epochs}'
    ]
    if epochs > 1:  # the cosine part (see _base_/replay_shapes.py)
        options += [
            f'param_scheduler.1.T_max={epochs - 1}',
            f'param_scheduler.1.end={epochs}'
        ]
    cmd = [
        mim, 'train', 'mmselfsup', start_config, '--work-dir', work_dir,
        '--cfg-options', *options
    ]
    print('$', ' '.join(cmd), flush=True)
    with open(work_dir + '.log', 'w') as log:
        subprocess.run(
            cmd, check=True, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    return last_checkpoint(work_dir)


def last_checkpoint(work_dir: str) -> str:
    ckpts = glob.glob(osp.join(work_dir, 'epoch_*.pth'))
    if not ckpts:
        raise FileNotFoundError(f'no epoch_*.pth in {work_dir}')
    return max(ckpts, key=lambda p: int(p.rsplit('_', 1)[1][:-4]))


def read_scalars(work_dir: str) -> Dict[str, List[tuple]]:
    """(step, value) series of a run's ``vis_data/scalars.json``."""
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    series: Dict[str, List[tuple]] = {}
    if files:
        with open(files[-1]) as f:
            for line in f:
                record = json.loads(line)
                for key in ('loss', 'knn/top1'):
                    if key in record:
                        series.setdefault(key, []).append(
                            (record['step'], record[key]))
    return series


def _read(path: str) -> Optional[str]:
    """A text file's content, None if there is none."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read()


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.time()
    torch.set_num_threads(args.num_threads)
    os.chdir(REPO)
    from mmsim.datasets import generate_shapes_dataset
    manifest = generate_shapes_dataset(
        args.data_root,
        num_train=args.num_train,
        num_val=args.num_val,
        img_size=64,
        num_det_train=args.num_det_train,
        num_det_val=args.num_det_val,
        det_img_size=128)
    det_root = osp.join(args.data_root, 'det')
    heldout_root = finetune.split_heldout(
        det_root, osp.join(args.work_dir, 'det_heldout'), args.num_heldout)
    os.makedirs(args.out, exist_ok=True)
    common_init = rows.save_common_init(
        osp.join(args.work_dir, 'common_init.pth'))
    evaluated = list(args.methods) + [rows.RANDOM]
    fine_rows = len(evaluated) + int(args.own_init)
    runs = len(args.lr_factors) + len(args.seeds)
    stages = StageProgress(
        [PRETRAIN_WEIGHT] * (0 if args.skip_pretrain else len(args.methods)) +
        [EVAL_WEIGHT] * len(evaluated) +
        [FINETUNE_WEIGHT[t] * fine_rows * runs for t in args.tasks])
    checkpoints, curves, timings, reused = {}, {}, {}, []
    for name in args.methods:
        work_dir = osp.join(args.work_dir, rows.slug(name))
        t = time.time()
        start_config = work_dir + '_start.py'
        before = _read(start_config)
        final = osp.join(work_dir, f'epoch_{args.epochs}.pth')
        if args.skip_pretrain:
            checkpoints[name] = last_checkpoint(work_dir)
        elif (args.resume and osp.isfile(final) and before == _read(
                rows.write_start_config(name, common_init, start_config))):
            stages.start(f'pre-train {name}: reused {final}')
            checkpoints[name] = final
            reused.append(name)
        else:
            stages.start(f'pre-train {name}')
            rows.write_start_config(name, common_init, start_config)
            checkpoints[name] = pretrain(name, start_config, work_dir,
                                         args.data_root, args.epochs)
        if name not in reused:
            timings[f'pre-train {name}'] = time.time() - t
        curves[name] = read_scalars(work_dir)
    results, fine = {}, {}
    splits = frozen.dense_splits(det_root)
    for name in evaluated:
        stages.start(f'evaluate {name} frozen')
        t = time.time()
        ckpt = checkpoints.get(name, common_init)
        model, cfg = rows.build_model(
            rows.config_path(name), ckpt, backbone_only=name == rows.RANDOM)
        results[name] = frozen.classification_metrics(model, cfg,
                                                      args.data_root)
        results[name].update(frozen.dense_metrics(model, splits))
        grid = results[name].pop('grid')
        os.makedirs(osp.join(args.work_dir, 'eval'), exist_ok=True)
        fine[name] = dict(
            slug=rows.slug(name),
            encoder=frozen.encoder_checkpoint(
                model, osp.join(args.work_dir, 'eval',
                                rows.slug(name) + '.pth'), ckpt))
        timings[f'evaluate {name}'] = time.time() - t
        print(name, results[name], flush=True)
    bounds = frozen.retrieval_bounds(splits, grid)
    if args.own_init:
        fine[rows.OWN_INIT] = dict(
            slug=rows.slug(rows.OWN_INIT),
            arch_from=fine[rows.RANDOM]['encoder'])
        results[rows.OWN_INIT] = {}
    for task in args.tasks:
        stages.start(
            f'{task} fine-tunes: {fine_rows} rows x '
            f'({len(args.lr_factors)} rates on held-out + '
            f'{len(args.seeds)} seeds on val), {args.workers} at once')
        t = time.time()
        outcome = finetune.lr_rule(
            task,
            fine,
            det_root,
            heldout_root,
            osp.join(args.work_dir, task),
            getattr(args, f'{task}_iters'),
            args.lr_factors,
            args.seeds,
            workers=args.workers,
            num_threads=args.num_threads,
            num_heads=NUM_HEADS,
            max_extensions=args.lr_extensions)
        for name, r in outcome.items():
            results[name][task] = r
        timings[f'{task} fine-tunes'] = time.time() - t
    stages.finish()
    wall = time.time() - start
    write_report(args, argv, results, bounds, curves, timings, wall, manifest,
                 reused)
    return 0


def write_report(args, argv, results, bounds, curves, timings, wall, manifest,
                 reused) -> None:
    """results.md, results.json and the plots under ``args.out``."""
    table = report.markdown_table(results, bounds)
    plots = report.plot_curves(curves, args.out, results[rows.RANDOM]['knn'],
                               frozen.NUM_CLASSES, rows.RANDOM)
    command = 'python -m benchmarks.replay.run ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    fine_reused = sum(r[t].get('reused', 0) for r in results.values()
                      for t in args.tasks if r.get(t))
    grids = []
    for task in args.tasks:
        metric = finetune.SELECT[task]
        grids += [
            f'Learning-rate grid, {task} ({metric} in % on the '
            f'{args.num_heldout} held-out training images, seed '
            f'{args.seeds[0]}; bold: chosen):', '',
            report.grid_table(task, metric, results), ''
        ]
    lines = [
        '# Replay: SIM vs MAE vs MoCo v3 vs random init on generated shapes',
        '', f'Command: `{command.strip()}`', '',
        f'Machine: {report.machine()}', '',
        f'Date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; wall time '
        f'{wall / 60:.1f} min: ' + ', '.join(f'{k} {v / 60:.1f} min'
                                             for k, v in timings.items()) +
        '.' + (' Pre-trainings reused from an earlier run of this command: ' +
               ', '.join(reused) + '.' if reused else '') +
        (f' Fine-tunes reused from an earlier run: {fine_reused}.'
         if fine_reused else ''), '',
        'Data: `generate_shapes_dataset` ' + json.dumps(manifest['params']),
        '', 'Every pre-trained row and `random init (common start)` start '
        'from the same encoder weights (benchmarks/replay/rows.py)' +
        (f"; `{rows.OWN_INIT}` is the detector's (ViTDet) or segmentor's "
         '(mmseg MAE) own initialisation of the same arch'
         if args.own_init else '') + '. Top-1 in % on the held-out '
        f'classification split ({frozen.NUM_CLASSES} classes, chance '
        f'{100 / frozen.NUM_CLASSES:.1f}); dense columns: mIoU in % over the '
        '8 shapes and background on the held-out detection images (probe: '
        'a linear classifier per patch; retrieval: k='
        f"{frozen.RETRIEVAL['k']}, T={frozen.RETRIEVAL['temperature']}, "
        'raw or standardised features); fine-tunes: mean over seeds '
        f'{args.seeds} [each seed] on the val set at the rate each row '
        'chose on held-out training images.', '', table, '', *grids,
        *[f'![{osp.basename(p)}]({osp.basename(p)})' for p in plots], ''
    ]
    with open(osp.join(args.out, 'results.md'), 'w') as f:
        f.write('\n'.join(lines))
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(
            dict(
                results=results,
                bounds=bounds,
                curves=curves,
                wall_s=wall,
                timings_s=timings,
                command=command),
            f,
            indent=1,
            default=float)
    print(table)
    print(f'wall time {wall / 60:.1f} min; written to {args.out}')


if __name__ == '__main__':
    sys.exit(main())
