# Copyright (c) mmsim contributors. All rights reserved.
"""Pictures of what SIM sees: its two views, the mask, where view-2 patches
land in view 1 and, with a checkpoint, PCA maps of the target features of
view 2 beside the predictions for the same patches.

The images go through the config's own ``train_dataloader.dataset`` (its
pipeline draws the views, mask and ``rel_pos``) and the model's data
pre-processor; the views are shown un-normalised, in RGB.

Example::

    python tools/analysis/visualize_sim_views.py \\
        configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py \\
        --checkpoint work_dirs/quickstart_sim/epoch_8.pth \\
        --out docs/images/sim_views.png
"""
import argparse
import os
import os.path as osp
import random
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope

import mmsim  # noqa: F401  (registers the components)
from mmsim.transfer import load_state_dict
from mmsim.visualization import (pca_to_rgb, plot_sim_views,
                                 sim_prediction_and_target, to_display_image)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw SIM\'s views, mask, cross-view correspondences '
        'and (with --checkpoint) PCA maps of targets and predictions.')
    parser.add_argument('config', help='mmselfsup SIM pre-training config')
    parser.add_argument(
        '--checkpoint', help='SIM checkpoint (adds target/prediction maps)')
    parser.add_argument(
        '--out', default='work_dirs/sim_views.png', help='output PNG path')
    parser.add_argument(
        '--num-images', type=int, default=4, help='rows of the grid')
    parser.add_argument(
        '--indices',
        type=int,
        nargs='+',
        help='dataset indices (default: spread evenly over the dataset)')
    parser.add_argument(
        '--points-per-side',
        type=int,
        default=3,
        help='dots on a k x k sub-grid of view 2\'s patches')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--batch-stats',
        action='store_true',
        help='run norm layers with the batch\'s statistics as in training '
        '(default: eval mode, running statistics)')
    parser.add_argument(
        '--pca-scope',
        choices=['image', 'all'],
        default='image',
        help='fit one PCA basis per image (its target and prediction) or '
        'one for all images')
    parser.add_argument('--dpi', type=int, default=80)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. '
        'train_dataloader.dataset.data_root=data/shapes/')
    return parser.parse_args(argv)


def pick_indices(length: int, num: int,
                 indices: Optional[List[int]]) -> List[int]:
    """Dataset indices to draw: ``indices``, or ``num`` spread evenly."""
    if length == 0:
        raise ValueError('the dataset is empty')
    if indices:
        bad = [i for i in indices if not 0 <= i < length]
        if bad:
            raise ValueError(f'--indices {bad} out of range for a dataset '
                             f'of {length} images')
        return list(indices)
    if num < 1:
        raise ValueError(f'--num-images must be >= 1, got {num}')
    return sorted({int(round(i)) for i in np.linspace(0, length - 1, num)})


def check_sample(sample: dict, index: int) -> None:
    """Fail clearly unless ``sample`` is packed as SIM's pipeline packs."""
    inputs = sample.get('inputs')
    data_sample = sample.get('data_samples')
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        raise ValueError(
            f'sample {index}: `inputs` must be a list of 2 views, got '
            f'{type(inputs).__name__}; is the pipeline SIM\'s '
            '(SIMTwoViewCrop ... PackSelfSupInputs)?')
    if data_sample is None or 'mask' not in data_sample or \
            'rel_pos' not in data_sample.get('pseudo_label', {}):
        raise ValueError(
            f'sample {index}: data_samples lacks mask.value or '
            "pseudo_label.rel_pos; pack with algorithm_keys=['mask'] and "
            "pseudo_label_keys=['rel_pos']")


def feature_maps(target: torch.Tensor, pred: torch.Tensor, grid_size: int,
                 shared: bool) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """PCA-RGB maps (G, G, 3) of targets and predictions (B, G * G, D),
    one basis for each image's pair, or for all images if ``shared``."""
    shape = (-1, grid_size, grid_size, 3)
    if shared:
        maps = pca_to_rgb([target, pred])
        return [list(m.reshape(shape)) for m in maps]
    targets, predictions = [], []
    for target_k, pred_k in zip(target, pred):
        maps = pca_to_rgb([target_k, pred_k])
        targets.append(maps[0].reshape(shape)[0])
        predictions.append(maps[1].reshape(shape)[0])
    return targets, predictions


def describe_match(pred: torch.Tensor, target: torch.Tensor) -> str:
    """Mean cosine of predictions and targets (G * G, D), raw and with
    each map's mean over patches removed (the spatial part alone)."""
    raw = torch.cosine_similarity(pred, target, dim=-1).mean()
    centred = torch.cosine_similarity(
        pred - pred.mean(0), target - target.mean(0), dim=-1).mean()
    return (f'cosine(prediction, target) {raw:.3f}, spatial part only '
            f'{centred:.3f}')


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmselfsup'))
    from mmselfsup.registry import DATASETS, MODELS
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    indices = pick_indices(len(dataset), args.num_images, args.indices)
    samples = []
    for index in indices:
        sample = dataset[index]
        check_sample(sample, index)
        samples.append(sample)
    batch = default_collate(samples)

    if args.checkpoint:
        model = MODELS.build(cfg.model)
        model.load_state_dict(load_state_dict(args.checkpoint), strict=True)
        model.train(args.batch_stats)
        preprocessor = model.data_preprocessor
    else:
        model = None
        preprocessor = MODELS.build(
            cfg.model.get('data_preprocessor',
                          dict(type='SelfSupDataPreprocessor')))
    with torch.no_grad():
        inputs, data_samples = preprocessor(batch)
    if getattr(preprocessor, '_enable_normalize', False):
        mean = preprocessor.mean.flatten().tolist()
        std = preprocessor.std.flatten().tolist()
    else:
        mean, std = [0.] * 3, [1.] * 3
    views = [[to_display_image(v, mean, std) for v in view] for view in inputs]
    if not getattr(preprocessor, '_channel_conversion', False):
        # The model gets the loader's order: BGR for mmcv loaders.
        views = [[v[..., ::-1] for v in view] for view in views]
    masks = [s.mask.value for s in data_samples]
    rel_pos = [s.pseudo_label.rel_pos for s in data_samples]
    grid_size = int(masks[0].shape[-1])

    targets = predictions = None
    if model is not None:
        pred, target = sim_prediction_and_target(model, inputs, data_samples)
        targets, predictions = feature_maps(target, pred, grid_size,
                                            args.pca_scope == 'all')
        for k, index in enumerate(indices):
            print(f'image {index}: ' + describe_match(pred[k], target[k]))

    fig = plot_sim_views(
        views[0],
        views[1],
        masks,
        rel_pos,
        grid_size,
        points_per_side=args.points_per_side,
        targets=targets,
        predictions=predictions)
    out_dir = osp.dirname(args.out)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    fig.savefig(args.out, dpi=args.dpi)
    print(f'saved {args.out} ({len(indices)} images: {indices})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
