# Copyright (c) mmsim contributors. All rights reserved.
"""The dense measures of :class:`KNNMonitorHook`: the dense linear probe
(``dense_probe``, logged as ``dense/mIoU``) and dense nearest-neighbour
retrieval (``dense_nn``, Hummingbird, logged as ``dense/nn_mIoU``), with
their options checked, their image sets loaded once and shared between
the two when the data keys agree."""
import math
import os.path as osp
import time
from typing import Dict, Optional, Tuple

from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmsim.evaluation import (DenseProbeSet, dense_probe_miou,
                              extract_patch_features, load_dense_probe_set,
                              retrieval_miou)

#: Keys both options read the labelled image folders with.
DENSE_DATA_DEFAULTS = dict(
    data_root='',
    train_img_dir='train',
    train_ann_dir='labels/train',
    val_img_dir='val',
    val_ann_dir='labels/val',
    num_classes=None,
    img_size=None,
    max_train_images=None,
    max_val_images=None)
#: Keys of the ``dense_probe`` option and their defaults.
DENSE_PROBE_DEFAULTS = dict(DENSE_DATA_DEFAULTS, l2=0.1, max_iter=300)
#: Keys of the ``dense_nn`` option and their defaults.
DENSE_NN_DEFAULTS = dict(
    DENSE_DATA_DEFAULTS, k=30, temperature=0.02, standardise=False)
#: Label the dense measures leave out (the dense probe's default).
IGNORE_INDEX = 255


def monitor_label(runner: Runner, epoch: int) -> str:
    """The monitor lines' prefix, e.g. ``Monitor [epoch 2/10]``."""
    return f'Monitor [epoch {epoch}/{runner.max_epochs}]'


def _is_int(value: object, low: int) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= low


def check_dense_option(name: str, cfg: Optional[dict],
                       defaults: dict) -> Optional[dict]:
    """Fill in and check a ``dense_probe`` / ``dense_nn`` option.

    Args:
        name (str): The option's name, for the errors.
        cfg (dict, optional): The option as configured; None turns it off.
        defaults (dict): Its keys and their defaults.

    Returns:
        dict, optional: The option with every key, or None.

    Raises:
        ValueError: Naming the key of an unknown key or a bad value.
    """
    if cfg is None:
        return None
    what = f'KNNMonitorHook {name}'
    if not isinstance(cfg, dict):
        raise ValueError(f'{what} must be a dict, got {cfg!r}')
    unknown = set(cfg) - set(defaults)
    if unknown:
        raise ValueError(f'{what}: unknown keys {sorted(unknown)}; known: '
                         f'{sorted(defaults)}')
    cfg = dict(defaults, **cfg)
    if not _is_int(cfg['num_classes'], 2):
        raise ValueError(f'{what}.num_classes must be an int >= 2 '
                         f'(background included), got '
                         f'{cfg["num_classes"]!r}')
    if name != 'dense_nn':  # the dense probe's checks, as they were
        return cfg
    for key in ('img_size', 'max_train_images', 'max_val_images'):
        if cfg[key] is not None and not _is_int(cfg[key], 1):
            raise ValueError(f'{what}.{key} must be None or a positive int, '
                             f'got {cfg[key]!r}')
    if not _is_int(cfg['k'], 1):
        raise ValueError(f'{what}.k (neighbours mixed) must be a positive '
                         f'int, got {cfg["k"]!r}')
    temperature = cfg['temperature']
    if isinstance(temperature, bool) or not isinstance(
            temperature, (int, float)) or not 0 < temperature < math.inf:
        raise ValueError(f'{what}.temperature must be a positive finite '
                         f'number, got {temperature!r}')
    if not isinstance(cfg['standardise'], bool):
        raise ValueError(f'{what}.standardise must be True or False, got '
                         f'{cfg["standardise"]!r}')
    return cfg


class DenseMonitor:
    """Runs and logs the dense measures :class:`KNNMonitorHook` is given.

    Args:
        dense_probe (dict, optional): The hook's ``dense_probe`` option.
        dense_nn (dict, optional): The hook's ``dense_nn`` option.
        backbone_name (str): Dotted path of the backbone in the model.
    """

    def __init__(self, dense_probe: Optional[dict], dense_nn: Optional[dict],
                 backbone_name: str) -> None:
        self.probe = check_dense_option('dense_probe', dense_probe,
                                        DENSE_PROBE_DEFAULTS)
        self.nn = check_dense_option('dense_nn', dense_nn, DENSE_NN_DEFAULTS)
        self.backbone_name = backbone_name
        self._sets: Dict[tuple, DenseProbeSet] = {}

    def load_sets(self, cfg: dict) -> Tuple[DenseProbeSet, DenseProbeSet]:
        """The (train, val) sets of an option, each read once: an option
        with the same data keys for a split gets the same object.

        Args:
            cfg (dict): A checked ``dense_probe`` or ``dense_nn`` option.

        Returns:
            tuple[DenseProbeSet, DenseProbeSet]: The train and val sets.
        """
        sets = []
        for split in ('train', 'val'):
            key = (osp.join(cfg['data_root'], cfg[f'{split}_img_dir']),
                   osp.join(cfg['data_root'], cfg[f'{split}_ann_dir']),
                   cfg['img_size'], cfg[f'max_{split}_images'])
            if key not in self._sets:
                self._sets[key] = load_dense_probe_set(*key)
            sets.append(self._sets[key])
        return tuple(sets)

    def evaluate_probe(self, runner: Runner, epoch: int) -> float:
        """Run the dense probe, log ``dense/mIoU`` and return it (%).

        Args:
            runner (Runner): The runner whose model is evaluated.
            epoch (int): Epochs trained so far (the logged step).

        Returns:
            float: mIoU (%) of the patch labels of the val images.
        """
        start = time.time()
        train_set, val_set = self.load_sets(self.probe)
        result = dense_probe_miou(
            runner.model,
            train_set,
            val_set,
            self.probe['num_classes'],
            self.backbone_name,
            l2=self.probe['l2'],
            max_iter=self.probe['max_iter'],
            progress=False)  # no bars in training logs
        grid = 'x'.join(map(str, result['grid']))
        self._log(
            runner, epoch, 'dense/mIoU', result['mIoU'],
            f'{len(val_set.names)} val images, {grid} patches, fitted on '
            f'{len(train_set.names)}', start)
        return result['mIoU']

    def evaluate_nn(self, runner: Runner, epoch: int) -> float:
        """Run dense nearest-neighbour retrieval
        (:func:`mmsim.evaluation.retrieval_miou`) on the frozen backbone's
        patch tokens, log ``dense/nn_mIoU`` and return it (%).

        Under DDP :func:`~mmsim.evaluation.extract_patch_features` gathers
        the shards, so every process computes the same number.

        Args:
            runner (Runner): The runner whose model is evaluated.
            epoch (int): Epochs trained so far (the logged step).

        Returns:
            float: Per-pixel mIoU (%) of the val images.
        """
        start = time.time()
        cfg = self.nn
        train_set, val_set = self.load_sets(cfg)
        for split, data in (('train', train_set), ('val', val_set)):
            maps = data.label_maps
            bad = maps[(maps != IGNORE_INDEX)
                       & ((maps < 0) | (maps >= cfg['num_classes']))]
            if bad.numel():
                raise ValueError(
                    f'KNNMonitorHook dense_nn: the {split} label maps hold '
                    f'class {int(bad[0])}, outside [0, {cfg["num_classes"]}) '
                    f'and not {IGNORE_INDEX}: set dense_nn.num_classes '
                    '(background included)')
        feats = [
            extract_patch_features(runner.model, data.images,
                                   self.backbone_name)
            for data in (train_set, val_set)
        ]
        result = retrieval_miou(
            feats[0],
            train_set.label_maps,
            feats[1],
            val_set.label_maps,
            cfg['num_classes'],
            k=cfg['k'],
            temperature=cfg['temperature'],
            standardise_features=cfg['standardise'],
            ignore_index=IGNORE_INDEX)
        grid = 'x'.join(map(str, feats[0].shape[1:3]))
        standardised = ', standardised' if cfg['standardise'] else ''
        self._log(
            runner, epoch, 'dense/nn_mIoU', result['mIoU'],
            f'{len(val_set.names)} val images, {grid} patches, memory of '
            f'{len(train_set.names)}, k={cfg["k"]}, T={cfg["temperature"]}'
            f'{standardised}', start)
        return result['mIoU']

    def evaluate(self, runner: Runner, epoch: int) -> Dict[str, float]:
        """Run the configured measures.

        Args:
            runner (Runner): The runner whose model is evaluated.
            epoch (int): Epochs trained so far (the logged step).

        Returns:
            dict: The history entry's ``dense_miou`` and ``dense_nn_miou``
            (%), those configured.
        """
        entry = {}
        if self.probe is not None:
            entry['dense_miou'] = self.evaluate_probe(runner, epoch)
        if self.nn is not None:
            entry['dense_nn_miou'] = self.evaluate_nn(runner, epoch)
        return entry

    @staticmethod
    def _log(runner: Runner, epoch: int, key: str, value: float, details: str,
             start: float) -> None:
        runner.visualizer.add_scalars({key: value}, step=epoch)
        if is_main_process():
            runner.logger.info(f'{monitor_label(runner, epoch)}  {key}: '
                               f'{value:.2f} %  ({details}; '
                               f'{time.time() - start:.1f} s)')
