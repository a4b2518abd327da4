# Copyright (c) mmsim contributors. All rights reserved.
"""One learning-rate rule for every fine-tune of the replay.

For a task (``'det'``: the tiny Mask R-CNN, ``'seg'``: the tiny UperNet),
every row fine-tunes at each rate of one grid (the config's own rate times
``lr_factors``) on a split of the *training* images (:func:`split_heldout`:
the last ``num_heldout`` train images become the evaluation set, the rest
train), keeps the rate with the best score there (box AP, mIoU; the
smaller rate on a tie), then fine-tunes on all training images at that
rate once per seed and is scored on the val images. The reported val set
never chooses anything. Random init gets the same rule.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
from typing import Any, Dict, Optional, Sequence

from mmengine.config import Config

from mmsim.transfer import run_finetunes

#: The task configs (the quick start's twins).
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    'det':
    osp.join(
        REPO, 'configs', 'benchmarks', 'mmdetection', 'coco',
        'mask-rcnn_sim-vit-tiny-p16_simple-fpn_1xb4-lsj128-600i_shapes.py'),
    'seg':
    osp.join(REPO, 'configs', 'benchmarks', 'mmsegmentation', 'shapes',
             'upernet_sim-vit-tiny-p16_1xb8-300i_shapes-128x128.py'),
}
#: The score that chooses the rate, and every metric reported (in %), as
#: (metric key, factor to %): mmdet's CocoMetric gives fractions, mmseg's
#: IoUMetric percentages.
SELECT = {'det': 'box', 'seg': 'mIoU'}
METRICS = {
    'det': {
        'box': ('coco/bbox_mAP', 100.),
        'mask': ('coco/segm_mAP', 100.)
    },
    'seg': {
        'mIoU': ('mIoU', 1.)
    },
}


def split_heldout(data_root: str, out_root: str, num_heldout: int) -> str:
    """A folder laid out like ``data_root`` (``train/``, ``val/``,
    ``labels/{train,val}/``, ``annotations/instances_{train,val}.json``)
    whose ``val`` is the last ``num_heldout`` training images (by image
    id) and whose ``train`` is the others; files are symbolic links.

    Returns:
        str: ``out_root``.
    """
    with open(osp.join(data_root, 'annotations', 'instances_train.json')) as f:
        coco = json.load(f)
    images = sorted(coco['images'], key=lambda im: im['id'])
    if not 0 < num_heldout < len(images):
        raise ValueError(f'num_heldout must be in (0, {len(images)}) for '
                         f'{data_root}, got {num_heldout}')
    parts = dict(train=images[:-num_heldout], val=images[-num_heldout:])
    shutil.rmtree(out_root, ignore_errors=True)
    os.makedirs(osp.join(out_root, 'annotations'))
    for split, split_images in parts.items():
        ids = {im['id'] for im in split_images}
        for folder in (split, osp.join('labels', split)):
            os.makedirs(osp.join(out_root, folder))
        for im in split_images:
            stem = osp.splitext(im['file_name'])[0]
            os.symlink(
                osp.abspath(osp.join(data_root, 'train', im['file_name'])),
                osp.join(out_root, split, im['file_name']))
            label = osp.join(data_root, 'labels', 'train', stem + '.png')
            if osp.isfile(label):
                os.symlink(
                    osp.abspath(label),
                    osp.join(out_root, 'labels', split, stem + '.png'))
        subset = dict(
            coco,
            images=split_images,
            annotations=[
                a for a in coco['annotations'] if a['image_id'] in ids
            ])
        with open(
                osp.join(out_root, 'annotations', f'instances_{split}.json'),
                'w') as f:
            json.dump(subset, f)
    return out_root


def base_lr(task: str) -> float:
    """The task config's own learning rate."""
    return float(Config.fromfile(CONFIGS[task]).optim_wrapper.optimizer.lr)


def _runs(rows: Dict[str, dict], lrs: Dict[str, float], seeds: Sequence[int],
          data_root: str, work_dir: str, iters: int) -> Dict[str, dict]:
    """:func:`run_finetunes` runs, one per (row, rate, seed), named
    ``row|lr|seed``."""
    runs = {}
    for name, row in rows.items():
        for lr_name, lr in lrs.items():
            for seed in seeds:
                runs[f'{name}|{lr_name}|{seed}'] = dict(
                    data_root=data_root,
                    work_dir=osp.join(work_dir, row['slug'],
                                      f'lr{lr_name}_seed{seed}'),
                    sim_checkpoint=row.get('encoder'),
                    arch_from=row.get('arch_from'),
                    max_iters=iters,
                    seed=seed,
                    cfg_options={'optim_wrapper.optimizer.lr': lr})
    return runs


def _digest(path: Optional[str]) -> Optional[str]:
    """sha256 of a file (None for None)."""
    if path is None:
        return None
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_or_reuse(task: str,
                 runs: Dict[str, dict],
                 reused: Optional[list] = None,
                 **common: Any) -> Dict[str, Dict[str, float]]:
    """:func:`run_finetunes` of the runs that no earlier call finished with
    the same parameters (task, config, data, iterations, seed, options,
    heads and the encoder's bytes), reusing the metrics of the others: a
    long replay killed half-way goes on where it stopped when run again.

    Each run's folder holds ``replay_params.json`` (written before it
    starts) and ``metrics.json`` (written atomically when it ends). The
    names of the reused runs are appended to ``reused`` if given.
    """
    done, todo = {}, {}
    for name, run in runs.items():
        params = dict(
            task=task,
            config=CONFIGS[task],
            num_heads=common.get('num_heads'),
            encoder=_digest(run.get('sim_checkpoint')),
            arch_from=_digest(run.get('arch_from')),
            **{
                k: v
                for k, v in run.items()
                if k not in ('work_dir', 'sim_checkpoint', 'arch_from')
            })
        params_text = json.dumps(params, sort_keys=True)
        params_file = osp.join(run['work_dir'], 'replay_params.json')
        metrics_file = osp.join(run['work_dir'], 'metrics.json')
        if osp.isfile(metrics_file) and osp.isfile(params_file):
            with open(params_file) as f:
                same = f.read() == params_text
            if same:
                with open(metrics_file) as f:
                    done[name] = json.load(f)
                continue
        os.makedirs(run['work_dir'], exist_ok=True)
        if osp.exists(metrics_file):
            os.remove(metrics_file)
        with open(params_file, 'w') as f:
            f.write(params_text)
        todo[name] = dict(run, metrics_file=metrics_file)
    if reused is not None:
        reused.extend(done)
    if done:
        print(
            f'[replay] {task}: {len(done)} of {len(runs)} fine-tunes '
            'reused (finished earlier with the same parameters)',
            flush=True)
    done.update(run_finetunes(task, CONFIGS[task], todo, **common))
    return {name: done[name] for name in runs}


def _scores(task: str, metrics: Dict[str, float]) -> Dict[str, float]:
    return {
        name: scale * metrics[key]
        for name, (key, scale) in METRICS[task].items()
    }


def _beyond_edge(factors: Sequence[float], scores: Dict[float, dict],
                 best: float, metric: str) -> Optional[float]:
    """The factor past the grid's edge to try next: ``2 * best`` when
    ``best`` is the largest factor and strictly better than the one below
    it, ``best / 2`` likewise at the small end; else None."""
    if len(factors) < 2:
        return None
    if best == factors[-1] and \
            scores[best][metric] > scores[factors[-2]][metric]:
        return best * 2
    if best == factors[0] and \
            scores[best][metric] > scores[factors[1]][metric]:
        return best / 2
    return None


def lr_rule(task: str,
            rows: Dict[str, dict],
            data_root: str,
            heldout_root: str,
            work_dir: str,
            iters: int,
            lr_factors: Sequence[float] = (0.5, 1., 2.),
            seeds: Sequence[int] = (0, 1),
            workers: int = 2,
            num_threads: Optional[int] = None,
            num_heads: Optional[int] = None,
            max_extensions: int = 2) -> Dict[str, dict]:
    """Fine-tune every row by the rule of this module.

    A row whose best held-out rate is the grid's largest (smallest) and
    strictly better than the next one gets the rate twice as large (half
    as large) on held-out images too, up to ``max_extensions`` times: a
    best rate at the edge says the optimum may lie beyond the grid. Ties
    never extend.

    Args:
        task (str): ``'det'`` or ``'seg'``.
        rows (dict[str, dict]): Row name -> ``slug`` (folder name) and
            ``encoder`` (a ``backbone.*`` checkpoint) or ``arch_from``
            (the task's own init of that checkpoint's arch).
        data_root (str): Train and val images (see :func:`split_heldout`).
        heldout_root (str): The split that chooses the rate.
        work_dir (str): Output folder.
        iters (int): Training iterations of every run.
        lr_factors (sequence[float]): The grid, times the config's rate.
        seeds (sequence[int]): Seeds of the val runs (the grid: the first).
        workers (int): Fine-tunes at once (one torch thread each).
        num_threads (int, optional): Torch threads when ``workers`` is 1.
        num_heads (int, optional): Heads of the encoders (their
            checkpoints do not say).
        max_extensions (int): How often a row's grid may grow beyond an
            edge. Defaults to 2.

    Returns:
        dict[str, dict]: By row: ``grid`` ({rate: held-out scores}, the
        extensions included),
        ``lr`` (the chosen rate), ``seeds`` ([val scores per seed]),
        ``reused`` (how many of its runs an earlier call had finished,
        :func:`run_or_reuse`).
    """
    lr0 = base_lr(task)
    # one torch thread per process when several run at once: 2 processes
    # of 2 threads on 2 cores ran the tiny Mask R-CNN 7x slower (3.4 s
    # instead of 0.47 s per iteration, a third of the CPU in the kernel)
    common = dict(
        workers=workers,
        num_threads=num_threads if workers <= 1 else 1,
        num_heads=num_heads)
    reused: list = []
    factors = {name: sorted(lr_factors) for name in rows}
    pending = {name: list(f) for name, f in factors.items()}
    held: Dict[str, Dict[str, float]] = {}
    results = {}
    for extension in range(max_extensions + 1):
        runs = {}
        for name, new in pending.items():
            runs.update(
                _runs({name: rows[name]}, {f'{f:g}x': f * lr0
                                           for f in new}, seeds[:1],
                      heldout_root, osp.join(work_dir, 'heldout'), iters))
        held.update(run_or_reuse(task, runs, reused, **common))
        pending = {}
        for name in rows:
            scores = {
                f: _scores(task, held[f'{name}|{f:g}x|{seeds[0]}'])
                for f in factors[name]
            }
            best = max(
                factors[name], key=lambda f: (scores[f][SELECT[task]], -f))
            results[name] = dict(
                grid={f * lr0: scores[f]
                      for f in factors[name]},
                lr=best * lr0,
                lr_name=f'{best:g}x')
            edge = _beyond_edge(factors[name], scores, best, SELECT[task])
            if edge is not None and extension < max_extensions:
                factors[name] = sorted(factors[name] + [edge])
                pending[name] = [edge]
        if not pending:
            break
    runs = {}
    for name, row in rows.items():
        chosen = {results[name]['lr_name']: results[name]['lr']}
        runs.update(
            _runs({name: row}, chosen, seeds, data_root,
                  osp.join(work_dir, 'val'), iters))
    val = run_or_reuse(task, runs, reused, **common)
    for name in rows:
        lr_name = results[name]['lr_name']
        results[name]['seeds'] = [
            _scores(task, val[f'{name}|{lr_name}|{seed}']) for seed in seeds
        ]
        results[name]['reused'] = sum(r.split('|')[0] == name for r in reused)
    return results
