# Copyright (c) mmsim contributors. All rights reserved.
"""Online kNN accuracy (and optionally the dense probe's and dense
retrieval's mIoU) of the frozen backbone while pre-training runs."""
import time
from typing import Dict, List, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmsim.evaluation import (check_same_label_maps, extract_pixel_features,
                              extract_pooled_features, knn_accuracy)
from ...hosts import host
from .dense_monitor import DENSE_PROBE_DEFAULTS  # noqa: F401 (its old home)
from .dense_monitor import DenseMonitor
from .dense_monitor import monitor_label as _label


@host().HOOKS.register_module()
class KNNMonitorHook(Hook):
    """Logs kNN top-1 of pooled backbone features every few epochs.

    Every ``interval`` epochs (and, with ``eval_at_start``, before the first
    one) it extracts the frozen backbone's pooled patch tokens of a labelled
    ``train_dataloader`` and a ``val_dataloader``, classifies the val
    features by a weighted vote of their ``k`` nearest train features
    (Wu et al., CVPR 2018; mmselfsup's offline kNN protocol) and logs
    ``knn/top1`` to the runner's logger and visualiser backends (TensorBoard
    when one is configured), with the epoch as the step. Its log lines are
    labelled by the scalar's name, e.g. ``Monitor [epoch 2/10]  knn/top1:
    46.80 %  (400 val vs 1600 train images, k=20, T=0.07; 3.1 s)
    knn/pixels: 83.20 %``. Works for any mmselfsup algorithm whose backbone
    is an mmcls ViT or returns feature maps. Under DDP every process
    extracts its shard, the features are gathered on all processes in
    dataset order, and all compute the same accuracy.

    Before training it refuses splits that label their classes differently
    (:func:`mmsim.evaluation.check_same_label_maps`, e.g. a ``meta/``
    folder a scan takes for a class), and logs once the baseline
    ``knn/pixels``: the same kNN on the raw pixels of the loaders' images
    (resized and cropped, flattened), drawing no random number training
    would see. A short run on small images can stay below it.

    With ``dense_probe`` it also runs the dense linear probe
    (:func:`mmsim.evaluation.dense_probe_miou`: one linear classifier on
    every patch token, fitted on labelled images, mIoU of the patch labels
    on held-out ones) and logs ``dense/mIoU``. With ``dense_nn`` it runs
    dense nearest-neighbour retrieval (Hummingbird,
    :func:`mmsim.evaluation.retrieval_miou`: a memory of the train images'
    patch tokens labelled by their patches' class histograms, each val
    token mixes its k nearest ones', mIoU per pixel) and logs
    ``dense/nn_mIoU``; no fitting, so it shows what the tokens hold as
    they are. Either or both; with the same data keys the two read the
    images once.

    Args:
        train_dataloader (dict): Dataloader config of the labelled set the
            neighbours come from. Its pipeline must give mmcls-style samples
            (``mmcls.PackClsInputs``) and should be deterministic (resize and
            centre crop, no augmentation).
        val_dataloader (dict): Dataloader config of the queries.
        interval (int): Evaluate every this many epochs; the last epoch is
            always evaluated. Defaults to 1.
        k (int): Neighbours that vote (>= 1). Defaults to 20 (mmselfsup's).
        temperature (float): Vote temperature (> 0). Defaults to 0.07.
        eval_at_start (bool): Also evaluate before training (the epoch-0
            point of the curve). Defaults to True.
        backbone_name (str): Dotted path of the backbone in the model.
            Defaults to ``'backbone'`` (the online encoder).
        dense_probe (dict, optional): Also run the dense probe. Keys:
            ``data_root`` and, under it, ``train_img_dir`` / ``train_ann_dir``
            / ``val_img_dir`` / ``val_ann_dir`` (image folders and their
            label-PNG folders; defaults ``train``, ``labels/train``, ``val``,
            ``labels/val``: the generated set's ``det/`` layout),
            ``num_classes`` (required, background included), ``img_size``,
            ``max_train_images``, ``max_val_images``, ``l2``, ``max_iter``
            (see :func:`mmsim.evaluation.load_dense_probe_set` and
            :func:`~mmsim.evaluation.dense_probe_miou`). Defaults to None.
        dense_nn (dict, optional): Also run dense retrieval. The data keys
            of ``dense_probe`` (``data_root`` ... ``max_val_images``,
            ``num_classes`` required) and ``k`` (neighbours mixed, default
            30), ``temperature`` (of the softmax over their cosines,
            default 0.02) and ``standardise`` (standardise every feature
            dimension by the memory's mean and std before the search,
            Vanyan et al.; default False: Hummingbird's own protocol, the
            one published numbers use). Label 255 is left out, as in the
            dense probe. Defaults to None.

    Examples:
        >>> custom_hooks = [dict(
        ...     type='KNNMonitorHook', interval=2,
        ...     train_dataloader=knn_train_loader,
        ...     val_dataloader=knn_val_loader,
        ...     dense_probe=dict(data_root='data/shapes/det/',
        ...                      num_classes=9),
        ...     dense_nn=dict(data_root='data/shapes/det/',
        ...                   num_classes=9))]
    """

    priority = 'LOW'

    def __init__(self,
                 train_dataloader: dict,
                 val_dataloader: dict,
                 interval: int = 1,
                 k: int = 20,
                 temperature: float = 0.07,
                 eval_at_start: bool = True,
                 backbone_name: str = 'backbone',
                 dense_probe: Optional[dict] = None,
                 dense_nn: Optional[dict] = None) -> None:
        if interval < 1:
            raise ValueError(f'KNNMonitorHook interval must be >= 1, got '
                             f'{interval}')
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError('KNNMonitorHook k (neighbours that vote) must be '
                             f'a positive int, got {k!r}')
        if isinstance(temperature, bool) or \
                not isinstance(temperature, (int, float)) or \
                not 0 < temperature < float('inf'):
            raise ValueError('KNNMonitorHook temperature must be a positive '
                             f'finite number, got {temperature!r}')
        for name, cfg in (('train_dataloader', train_dataloader),
                          ('val_dataloader', val_dataloader)):
            if not isinstance(cfg, dict) or 'dataset' not in cfg:
                raise ValueError(f'KNNMonitorHook {name} must be a '
                                 'dataloader config dict with a `dataset`, '
                                 f'got {cfg!r}')
        self.dataloader_cfgs = dict(train=train_dataloader, val=val_dataloader)
        self.interval = interval
        self.k = k
        self.temperature = temperature
        self.eval_at_start = eval_at_start
        self.backbone_name = backbone_name
        self._dense = DenseMonitor(dense_probe, dense_nn, backbone_name)
        self.dense_probe = self._dense.probe
        self.dense_nn = self._dense.nn
        self._loaders: Optional[Dict[str, object]] = None
        self.history: List[dict] = []
        self.pixel_top1: Optional[float] = None

    def _load_dense_sets(self) -> tuple:
        """The dense probe's (train, val) sets, read once."""
        return self._dense.load_sets(self.dense_probe)

    def evaluate_dense(self, runner: Runner, epoch: int) -> float:
        """Run the dense probe, log ``dense/mIoU`` and return it (%).

        Args:
            runner (Runner): The runner whose model is evaluated.
            epoch (int): Epochs trained so far (the logged step).

        Returns:
            float: mIoU (%) of the patch labels of the val images.
        """
        return self._dense.evaluate_probe(runner, epoch)

    def evaluate_dense_nn(self, runner: Runner, epoch: int) -> float:
        """Run dense retrieval, log ``dense/nn_mIoU`` and return it (%).

        Args:
            runner (Runner): The runner whose model is evaluated.
            epoch (int): Epochs trained so far (the logged step).

        Returns:
            float: Per-pixel mIoU (%) of the val images.
        """
        return self._dense.evaluate_nn(runner, epoch)

    def _build_loaders(self, runner: Runner) -> Dict[str, object]:
        if self._loaders is None:
            self._loaders = {
                split:
                runner.build_dataloader(
                    cfg, seed=runner.seed, diff_rank_seed=False)
                for split, cfg in self.dataloader_cfgs.items()
            }
            check_same_label_maps(
                {
                    split: loader.dataset
                    for split, loader in self._loaders.items()
                }, 'KNNMonitorHook')
        return self._loaders

    def evaluate_pixels(self, runner: Runner) -> float:
        """Log kNN top-1 (%) of the raw pixels as ``knn/pixels`` at the
        current epoch and return it.

        Args:
            runner (Runner): The runner (the model is not used).

        Returns:
            float: kNN top-1 (%) of the val split's flattened pixels.
        """
        start = time.time()
        loaders = self._build_loaders(runner)
        # iterating a DataLoader draws its base seed from torch's global
        # generator: restore it so that training sees the same draws
        with torch.random.fork_rng(devices=[]):
            train_pix, train_labels = extract_pixel_features(loaders['train'])
            val_pix, val_labels = extract_pixel_features(loaders['val'])
        num_classes = int(max(train_labels.max(), val_labels.max())) + 1
        top1 = knn_accuracy(train_pix, train_labels, val_pix, val_labels,
                            num_classes, self.k, self.temperature)
        self.pixel_top1 = top1
        runner.visualizer.add_scalars({'knn/pixels': top1}, step=runner.epoch)
        if is_main_process():
            runner.logger.info(
                f'{_label(runner, runner.epoch)}  knn/pixels: {top1:.2f} %  '
                f'(baseline of knn/top1: the same kNN on the raw pixels, '
                f'{train_pix.shape[1]} values per image, of the same '
                f'{len(val_labels)} val vs {len(train_labels)} train images; '
                f'{time.time() - start:.1f} s)')
        return top1

    def evaluate(self, runner: Runner, epoch: int) -> float:
        """Extract features, classify the val split, log and return top-1
        (and run the dense measures configured).

        Args:
            runner (Runner): The runner whose model is evaluated.
            epoch (int): Epochs trained so far (the logged step).

        Returns:
            float: kNN top-1 accuracy (%) on the val split.
        """
        start = time.time()
        loaders = self._build_loaders(runner)
        # no progress bars: they would land in the training log
        train_feats, train_labels = extract_pooled_features(
            runner.model, loaders['train'], self.backbone_name, progress=False)
        val_feats, val_labels = extract_pooled_features(
            runner.model, loaders['val'], self.backbone_name, progress=False)
        num_classes = int(max(train_labels.max(), val_labels.max())) + 1
        top1 = knn_accuracy(train_feats, train_labels, val_feats, val_labels,
                            num_classes, self.k, self.temperature)
        runner.visualizer.add_scalars({'knn/top1': top1}, step=epoch)
        if is_main_process():
            runner.logger.info(
                f'{_label(runner, epoch)}  knn/top1: {top1:.2f} %  '
                f'({len(val_labels)} val vs {len(train_labels)} train '
                f'images, k={self.k}, T={self.temperature}; '
                f'{time.time() - start:.1f} s)' +
                ('' if self.pixel_top1 is
                 None else f'  knn/pixels: {self.pixel_top1:.2f} %'))
        entry = dict(epoch=epoch, top1=top1)
        entry.update(self._dense.evaluate(runner, epoch))
        self.history.append(entry)
        return top1

    def before_train(self, runner: Runner) -> None:
        """Check the splits' label maps, log the pixel baseline, and
        evaluate the initial backbone (epoch 0) if asked to."""
        self.evaluate_pixels(runner)
        if self.eval_at_start and runner.epoch == 0:
            self.evaluate(runner, epoch=0)

    def after_train_epoch(self, runner: Runner) -> None:
        """Evaluate every ``interval`` epochs and after the last one."""
        if self.every_n_epochs(runner, self.interval) or \
                self.is_last_train_epoch(runner):
            self.evaluate(runner, epoch=runner.epoch + 1)
