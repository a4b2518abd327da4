# Copyright (c) mmsim contributors. All rights reserved.
"""Logistic-regression ("IN 1%") top-1 accuracy of frozen SIM features.

Example::

    CFG=configs/benchmarks/classification/imagenet
    python tools/benchmarks/classification/logistic_regression.py \
        $CFG/vit-base-p16_logreg-1pct_in1k.py \
        work_dirs/sim/epoch_1600.pth

Extracts the pooled patch tokens of the config's train set (the 1 %
labelled subset) and val set (``mmsim.evaluation.extract_pooled_features``,
on all GPUs with ``--launcher pytorch``), fits
``mmsim.evaluation.logistic_regression.fit_logistic_regression`` with the
config's ``logistic_regression`` settings (L2 lambda 0.1, rows centred and
L2-normalised, no intercept: MSN's protocol) and writes
``logistic_regression.json`` (and the fitted layer as
``logistic_regression.pth``) to the work dir.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

from mmsim.evaluation import frozen_features as ff


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='logistic regression on frozen features')
    ff.add_common_args(parser)
    parser.add_argument(
        '--l2',
        type=float,
        help='L2 penalty lambda (default: config logistic_regression.l2)')
    return ff.run_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> int:
    import torch
    from mmengine.dist import get_rank
    from mmengine.logging import MMLogger

    from mmsim.evaluation.logistic_regression import (
        fit_logistic_regression, predict_logistic_regression)
    args = parse_args(argv)
    cfg = ff.load_config(args, 'logistic_regression')
    lr_cfg = dict(l2=0.1, max_iter=1000, normalize=True, fit_intercept=False)
    lr_cfg.update(cfg.get('logistic_regression', {}))
    if args.l2 is not None:
        lr_cfg['l2'] = args.l2
    model = ff.build_feature_model(cfg, args.launcher)
    train_feats, train_labels, val_feats, val_labels = ff.extract_train_val(
        cfg, model, args.progress)
    if get_rank() != 0:  # every rank holds all features; one fits
        return 0
    num_classes = int(max(train_labels.max(), val_labels.max())) + 1
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    classifier = fit_logistic_regression(
        train_feats.to(device), train_labels.to(device), num_classes, **lr_cfg)
    train_pred = predict_logistic_regression(classifier,
                                             train_feats.to(device),
                                             lr_cfg['normalize']).cpu()
    val_pred = predict_logistic_regression(classifier, val_feats.to(device),
                                           lr_cfg['normalize']).cpu()
    result = dict(
        top1=(val_pred == val_labels).float().mean().item() * 100.,
        train_top1=(train_pred == train_labels).float().mean().item() * 100.,
        num_train=len(train_labels),
        num_val=len(val_labels),
        checkpoint=args.checkpoint,
        **lr_cfg)
    work_dir = ff.prepare_work_dir(cfg)
    logger = MMLogger.get_instance('mmsim_logreg', log_level='INFO')
    logger.info(f'logistic regression (lambda={lr_cfg["l2"]}) on '
                f'{len(train_labels)} images: val top-1 {result["top1"]:.2f}'
                f' % on {len(val_labels)} images (train '
                f'{result["train_top1"]:.2f} %)')
    with open(osp.join(work_dir, 'logistic_regression.json'), 'w') as f:
        json.dump(result, f, indent=2)
    torch.save(classifier.cpu().state_dict(),
               osp.join(work_dir, 'logistic_regression.pth'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
