# Copyright (c) mmsim contributors. All rights reserved.
"""Weighted kNN top-1 accuracy of a SIM checkpoint's frozen features.

Example::

    CFG=configs/benchmarks/classification/imagenet
    python tools/benchmarks/classification/knn.py \
        $CFG/vit-base-p16_knn-k20_in1k.py \
        work_dirs/sim/epoch_1600.pth
    # 8 GPUs: python -m torch.distributed.launch --nproc_per_node=8 \
    #     tools/benchmarks/classification/knn.py CONFIG CKPT --launcher pytorch

Extracts the pooled patch tokens of the config's train and val sets
(``mmsim.evaluation.extract_pooled_features``), classifies every val image
by the vote of its k most cosine-similar training images
(``mmsim.evaluation.knn_accuracy``; k and temperature from the config's
``knn`` dict or the command line) and writes ``knn.json`` to the work dir.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

from mmsim.evaluation import frozen_features as ff


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='kNN evaluation')
    ff.add_common_args(parser)
    parser.add_argument(
        '--k', type=int, help='neighbours (default: config knn.k, 20)')
    parser.add_argument(
        '--temperature',
        type=float,
        help='vote temperature (default: config knn.temperature, 0.07)')
    return ff.run_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> int:
    import torch
    from mmengine.dist import get_rank
    from mmengine.logging import MMLogger

    from mmsim.evaluation import knn_accuracy
    args = parse_args(argv)
    cfg = ff.load_config(args, 'knn')
    knn_cfg = dict(k=20, temperature=0.07)
    knn_cfg.update(cfg.get('knn', {}))
    if args.k is not None:
        knn_cfg['k'] = args.k
    if args.temperature is not None:
        knn_cfg['temperature'] = args.temperature
    model = ff.build_feature_model(cfg, args.launcher)
    train_feats, train_labels, val_feats, val_labels = ff.extract_train_val(
        cfg, model, args.progress)
    if get_rank() != 0:  # every rank holds all features; one votes
        return 0
    num_classes = int(max(train_labels.max(), val_labels.max())) + 1
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    top1 = knn_accuracy(
        train_feats.to(device), train_labels.to(device), val_feats.to(device),
        val_labels.to(device), num_classes, **knn_cfg)
    result = dict(
        top1=top1,
        num_train=len(train_labels),
        num_val=len(val_labels),
        checkpoint=args.checkpoint,
        **knn_cfg)
    work_dir = ff.prepare_work_dir(cfg)
    logger = MMLogger.get_instance('mmsim_knn', log_level='INFO')
    logger.info(f'{knn_cfg["k"]}-NN (T={knn_cfg["temperature"]}) top-1: '
                f'{top1:.2f} % on {len(val_labels)} images')
    with open(osp.join(work_dir, 'knn.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
