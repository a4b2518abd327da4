# Copyright (c) mmsim contributors. All rights reserved.
"""Replay the paper's comparison on generated data, on a CPU, in one command.

Pre-trains the same ViT-Tiny-sized encoder (192 wide, 6 layers, patch 16,
96 px) with SIM dense-only (release form), SIM global + dense (paper form),
mmselfsup's own MAE and mmselfsup's own MoCo v3, with the same epochs,
batch and optimiser (``benchmarks/replay/configs/``, each through
``mim train mmselfsup``, with the kNN monitor on), then evaluates every
frozen encoder and a random-init one: kNN top-1 and linear (logistic
regression) top-1 on the held-out classification split, the dense probe's
mIoU (a linear classifier on every patch token of the detection images,
``mmsim.evaluation.dense_probe_miou``), and Mask R-CNN box / mask AP on
the generated COCO-format set through mmsim's mmdet path.
Prints one markdown table and writes it, the loss and kNN-versus-epoch
plots, the command, machine and wall time under ``--out``.

Example (from the repository root)::

    python -m benchmarks.replay.run --out docs/benchmarks/replay
"""
import argparse
import datetime
import glob
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Dict, List, Optional

if not __package__:  # run as a file: the benchmarks package is not found
    sys.exit('benchmarks/replay/run.py is a module: run it from the '
             'repository root as `python -m benchmarks.replay.run ...`')

import torch  # noqa: E402

from benchmarks._progress import StageProgress  # noqa: E402
from mmsim.transfer import load_state_dict, run_finetunes  # noqa: E402

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
CONFIG_DIR = osp.join(HERE, 'configs')
#: The detection column's config: the quick start's tiny Mask R-CNN.
DET_CONFIG = osp.join(
    REPO, 'configs', 'benchmarks', 'mmdetection', 'coco',
    'mask-rcnn_sim-vit-tiny-p16_simple-fpn_1xb4-lsj128-600i_shapes.py')
DATA_ROOT = 'data/replay_shapes'  # the configs' data root, from the repo
# Rows in the paper's order (spec section 5), then the floor.
METHODS = {
    'MoCo v3': 'mocov3_vit-tiny-p16_shapes.py',
    'MAE': 'mae_vit-tiny-p16_shapes.py',
    'SIM (paper: global + dense)': 'sim-paper_vit-tiny-p16_shapes.py',
    'SIM (release: dense)': 'sim-release_vit-tiny-p16_shapes.py',
}
RANDOM = 'random init'
NUM_CLASSES = 8
DENSE_PROBE = dict(max_train_images=400, max_val_images=200)
#: Stage costs relative to a pre-training (about 270 s), for the ETA:
#: the frozen-feature evaluations of one encoder, and one round of
#: Mask R-CNN fine-tunes (one per worker at once, about 270 s).
EVAL_WEIGHT = 0.15
DET_ROUND_WEIGHT = 1.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='docs/benchmarks/replay')
    parser.add_argument('--work-dir', default='work_dirs/replay')
    parser.add_argument('--num-train', type=int, default=3000)
    parser.add_argument('--num-val', type=int, default=600)
    # the quick start's detection set (tools/data/generate_shapes.py)
    parser.add_argument('--num-det-train', type=int, default=800)
    parser.add_argument('--num-det-val', type=int, default=200)
    parser.add_argument(
        '--det-iters', type=int, default=600, help='Mask R-CNN iterations')
    parser.add_argument(
        '--methods',
        nargs='+',
        default=list(METHODS),
        choices=list(METHODS),
        help='pre-training methods (random init is always evaluated)')
    parser.add_argument(
        '--skip-pretrain',
        action='store_true',
        help='reuse the checkpoints already in --work-dir')
    parser.add_argument('--num-threads', type=int, default=2)
    parser.add_argument(
        '--det-workers',
        type=int,
        default=2,
        help='Mask R-CNN fine-tunes at once, one process and torch thread '
        'each (1: one after another with --num-threads)')
    return parser.parse_args(argv)


def _slug(name: str) -> str:
    return METHODS[name].split('_')[0] if name in METHODS else 'random'


def pretrain(name: str, work_dir: str) -> str:
    """``mim train mmselfsup`` one config; returns its last checkpoint."""
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    cmd = [
        mim, 'train', 'mmselfsup',
        osp.join(CONFIG_DIR, METHODS[name]), '--work-dir', work_dir
    ]
    print('$', ' '.join(cmd), flush=True)
    with open(osp.join(work_dir + '.log'), 'w') as log:
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
    if not files:
        return series
    with open(files[-1]) as f:
        for line in f:
            record = json.loads(line)
            for key, value in record.items():
                if key in ('loss', 'knn/top1'):
                    series.setdefault(key, []).append((record['step'], value))
    return series


def _build_model(config: str, checkpoint: Optional[str]):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmselfsup.registry import MODELS
    init_default_scope('mmselfsup')
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint is not None:
        state = load_state_dict(checkpoint)
        model.load_state_dict(state, strict=True)
    return model.eval(), cfg


def classification_metrics(config: str,
                           checkpoint: Optional[str]) -> Dict[str, float]:
    """kNN and linear top-1 (%) of the frozen encoder on the val split."""
    from mmengine.runner import Runner

    from mmsim.evaluation import extract_pooled_features, knn_accuracy
    from mmsim.evaluation.logistic_regression import \
        logistic_regression_accuracy
    model, cfg = _build_model(config, checkpoint)
    hook = next(h for h in cfg.custom_hooks if h.type == 'KNNMonitorHook')
    feats = {}
    for split in ('train', 'val'):
        loader = Runner.build_dataloader(hook[f'{split}_dataloader'])
        feats[split] = extract_pooled_features(model, loader)
    knn = knn_accuracy(*feats['train'], *feats['val'], NUM_CLASSES,
                       hook.get('k', 20), hook.get('temperature', 0.07))
    linear = logistic_regression_accuracy(*feats['train'], *feats['val'],
                                          NUM_CLASSES)
    return dict(knn=knn, linear=linear)


def dense_metrics(config: str, checkpoint: Optional[str],
                  det_root: str) -> Dict[str, float]:
    """Dense-probe mIoU (%) of the frozen encoder on the detection images
    (patch labels: 8 shapes + background)."""
    from mmsim.evaluation import dense_probe_miou, load_dense_probe_set
    model, _ = _build_model(config, checkpoint)
    splits = [
        load_dense_probe_set(
            osp.join(det_root, split),
            osp.join(det_root, 'labels', split),
            max_images=DENSE_PROBE[f'max_{split}_images'])
        for split in ('train', 'val')
    ]
    return dict(
        dense=dense_probe_miou(model, *splits, NUM_CLASSES + 1)['mIoU'])


def encoder_checkpoint(config: str, checkpoint: Optional[str],
                       path: str) -> str:
    """The online encoder alone, as a ``backbone.*`` state dict.

    MAE's and MoCo v3's final LayerNorm (``backbone.ln1``) is dropped: the
    detection backbone, like SIM's encoder, has none.
    """
    model, _ = _build_model(config, checkpoint)
    state = {
        'backbone.' + k: v
        for k, v in model.backbone.state_dict().items()
        if not k.startswith('ln1.')
    }
    torch.save(dict(state_dict=state, meta=dict(source=checkpoint)), path)
    return path


def run_detections(jobs: Dict[str, dict], workers: int,
                   num_threads: int) -> Dict[str, Dict[str, float]]:
    """Box / mask AP (%) of the tiny Mask R-CNN fine-tuned from each job's
    encoder checkpoint (``encoder``), or (``encoder=None``) from the
    detector's own random init with ``arch_from``'s backbone arch, through
    the package's fine-tune driver: ``workers`` spawned processes of one
    thread each when above 1, else one after another with ``num_threads``;
    each job's lines labelled with its name.

    Args:
        jobs (dict[str, dict]): Name -> ``encoder``, ``det_root``,
            ``work_dir``, ``iters`` and optionally ``arch_from``.
        workers (int): Fine-tunes at once.
        num_threads (int): Torch threads when one after another.

    Returns:
        dict[str, dict[str, float]]: ``box`` and ``mask`` AP by name.
    """
    runs = {
        name:
        dict(
            data_root=job['det_root'],
            work_dir=job['work_dir'],
            sim_checkpoint=job['encoder'],
            max_iters=job['iters'],
            arch_from=job.get('arch_from'))
        for name, job in jobs.items()
    }
    results = run_finetunes(
        'det',
        DET_CONFIG,
        runs,
        workers=workers,
        num_threads=num_threads if workers <= 1 else 1,
        num_heads=3)
    return {
        name:
        dict(
            box=100 * metrics['coco/bbox_mAP'],
            mask=100 * metrics['coco/segm_mAP'])
        for name, metrics in results.items()
    }


def markdown_table(results: Dict[str, Dict[str, float]]) -> str:
    lines = [
        '| method | linear top-1 | kNN top-1 | dense-probe mIoU | '
        'det AP box | det AP mask |', '|---|---|---|---|---|---|'
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['linear']:.1f} | {r['knn']:.1f} | "
                     f"{r['dense']:.1f} | {r['box']:.1f} | "
                     f"{r['mask']:.1f} |")
    return '\n'.join(lines)


def plot_curves(curves: Dict[str, Dict[str, List[tuple]]], out: str,
                random_knn: float) -> List[str]:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, series in curves.items():
        if series.get('knn/top1'):
            steps, values = zip(*series['knn/top1'])
            ax.plot(steps, values, marker='o', label=name)
    ax.axhline(random_knn, color='grey', ls='--', label=RANDOM)
    ax.axhline(100 / NUM_CLASSES, color='grey', ls=':', label='chance')
    ax.set(xlabel='epoch', ylabel='kNN top-1 (%)', title='kNN monitor')
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(osp.join(out, 'knn_vs_epoch.png'))
    fig.savefig(paths[-1], dpi=100)
    fig, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 3))
    for ax, (name, series) in zip(
            list(axes) if len(curves) > 1 else [axes], curves.items()):
        if series.get('loss'):
            steps, values = zip(*series['loss'])
            ax.plot(steps, values)
        ax.set(title=name, xlabel='iteration')
        ax.title.set_fontsize(8)
    axes_list = list(axes) if len(curves) > 1 else [axes]
    axes_list[0].set_ylabel('training loss (own scale)')
    fig.tight_layout()
    paths.append(osp.join(out, 'loss_vs_iter.png'))
    fig.savefig(paths[-1], dpi=100)
    return paths


def machine() -> str:
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


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.time()
    torch.set_num_threads(args.num_threads)
    os.chdir(REPO)
    from mmsim.datasets import generate_shapes_dataset
    manifest = generate_shapes_dataset(
        DATA_ROOT,
        num_train=args.num_train,
        num_val=args.num_val,
        img_size=64,
        num_det_train=args.num_det_train,
        num_det_val=args.num_det_val,
        det_img_size=128)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    checkpoints, curves, timings = {}, {}, {}
    evaluated = list(args.methods) + [RANDOM]
    # a line per stage with its ETA; reused checkpoints are no stages
    stages = StageProgress(
        [1.] * (0 if args.skip_pretrain else len(args.methods)) +
        [EVAL_WEIGHT] * len(evaluated) +
        [DET_ROUND_WEIGHT * -(-len(evaluated) // max(1, args.det_workers))])
    for name in args.methods:
        work_dir = osp.join(args.work_dir, _slug(name))
        if not args.skip_pretrain:
            stages.start(f'pre-train {name}')
        t = time.time()
        checkpoints[name] = last_checkpoint(work_dir) if \
            args.skip_pretrain else pretrain(name, work_dir)
        timings[name] = time.time() - t
        curves[name] = read_scalars(work_dir)
        print(f'{name}: pre-trained in {timings[name]:.0f} s', flush=True)
    results, det_jobs = {}, {}
    random_config = osp.join(CONFIG_DIR, METHODS['SIM (release: dense)'])
    det_root = osp.join(DATA_ROOT, 'det')
    for name in evaluated:
        stages.start(f'evaluate {name} (kNN, linear, dense probe)')
        config = random_config if name == RANDOM else osp.join(
            CONFIG_DIR, METHODS[name])
        ckpt = checkpoints.get(name)
        work_dir = osp.join(args.work_dir, 'eval', _slug(name))
        os.makedirs(work_dir, exist_ok=True)
        results[name] = classification_metrics(config, ckpt)
        results[name].update(dense_metrics(config, ckpt, det_root))
        print(name, results[name], flush=True)
        encoder = encoder_checkpoint(config, ckpt,
                                     osp.join(work_dir, 'encoder.pth'))
        # random init: the detector's own (ViTDet's) initialisation of
        # the same backbone arch, as in the quick start
        det_jobs[name] = dict(
            encoder=None if name == RANDOM else encoder,
            arch_from=encoder if name == RANDOM else None,
            det_root=det_root,
            work_dir=osp.join(work_dir, 'det'),
            iters=args.det_iters)
    stages.start(f'fine-tune Mask R-CNN x {len(det_jobs)} '
                 f'({args.det_workers} at once)')
    for name, det in run_detections(det_jobs, args.det_workers,
                                    args.num_threads).items():
        results[name].update(det)
        print(name, results[name], flush=True)
    stages.finish()
    table = markdown_table(results)
    plots = plot_curves(curves, args.out, results[RANDOM]['knn'])
    wall = time.time() - start
    command = 'python -m benchmarks.replay.run ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    report = [
        '# Replay: SIM vs MAE vs MoCo v3 vs random init on generated shapes',
        '', f'Command: `{command.strip()}`', '', f'Machine: {machine()}', '',
        f'Date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; wall time '
        f'{wall / 60:.1f} min (pre-training: ' +
        ', '.join(f'{n} {t / 60:.1f} min'
                  for n, t in timings.items()) + ').', '',
        'Data: `generate_shapes_dataset` ' + json.dumps(manifest['params']),
        '', 'Top-1 in %, on the held-out split (8 classes, chance 12.5); '
        'dense-probe mIoU in % over the 8 shapes and background on the '
        'patches of the held-out detection images; AP in % on the '
        'generated COCO-format val set.', '', table, '',
        *[f'![{osp.basename(p)}]({osp.basename(p)})' for p in plots], ''
    ]
    with open(osp.join(args.out, 'results.md'), 'w') as f:
        f.write('\n'.join(report))
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(
            dict(
                results=results,
                curves=curves,
                wall_s=wall,
                pretrain_s=timings),
            f,
            indent=1)
    print(table)
    print(f'wall time {wall / 60:.1f} min; written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
