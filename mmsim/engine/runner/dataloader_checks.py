# Copyright (c) mmsim contributors. All rights reserved.
"""Dataloaders that cannot give a batch fail with the file and setting.

Without these checks an empty annotation file ends in mmengine's
``ValueError: need at least one array to concatenate`` and a dataset
smaller than one batch (with ``drop_last``) in ``AssertionError:
epoch_length must be a positive integer, but got 0.``, neither of which
names the file or the setting to change; a missing image folder is found
only when the first batch is loaded.
"""
import os
import os.path as osp
from typing import Iterator, Optional

from mmengine.dist import get_world_size
from torch.utils.data import DataLoader


class EmptyDataError(ValueError):
    """A dataloader would give no batch at all."""


def _dataset_cfgs(dataset_cfg) -> Iterator[dict]:
    """A dataset config and those it wraps (``dataset``, ``datasets``)."""
    if not isinstance(dataset_cfg, dict):
        return
    yield dataset_cfg
    yield from _dataset_cfgs(dataset_cfg.get('dataset'))
    for inner in dataset_cfg.get('datasets', None) or ():
        yield from _dataset_cfgs(inner)


def annotation_path(dataset_cfg: dict) -> Optional[str]:
    """``ann_file`` as mmengine's ``BaseDataset`` resolves it.

    Args:
        dataset_cfg (dict): A dataset config.

    Returns:
        str, optional: ``data_root / ann_file`` (``ann_file`` alone when it
        is absolute or there is no ``data_root``); None without
        ``ann_file``.
    """
    ann_file = dataset_cfg.get('ann_file')
    if not isinstance(ann_file, str) or not ann_file:
        return None
    data_root = dataset_cfg.get('data_root')
    if data_root and not osp.isabs(ann_file):
        return osp.join(data_root, ann_file)
    return ann_file


def describe_dataset(dataset_cfg) -> str:
    """``"mmcls.CustomDataset (data/x/meta/train.txt)"`` for messages."""
    if not isinstance(dataset_cfg, dict):
        return f'dataset {dataset_cfg!r}'
    kind = dataset_cfg.get('type', 'dataset')
    kind = kind if isinstance(kind, str) else getattr(kind, '__name__', kind)
    where = annotation_path(dataset_cfg)
    if where is None:
        prefix = dataset_cfg.get('data_prefix')
        where = f'data_root={dataset_cfg.get("data_root")!r}, ' \
            f'data_prefix={prefix!r}'
    return f'{kind} ({where})'


def check_annotation_files(dataset_cfg) -> None:
    """Refuse a local annotation file with nothing but blank lines.

    Args:
        dataset_cfg (dict): A dataset config (wrappers are followed).

    Raises:
        EmptyDataError: Naming the file and the dataset.
    """
    for cfg in _dataset_cfgs(dataset_cfg):
        path = annotation_path(cfg)
        if path is None or not osp.isfile(path):
            continue  # missing files get the dataset's own error
        with open(path, 'rb') as handle:
            if any(line.strip() for line in handle):
                continue
        raise EmptyDataError(
            f'the annotation file {path} of {describe_dataset(cfg)} is '
            'empty: it should list one sample per line (for mmcls: '
            '"<image path relative to data_prefix> <label>"); regenerate it '
            'or point ann_file at the right file')


def _local(path) -> bool:
    """Whether ``path`` is a local path (not a URL or ``s3:``-style)."""
    return isinstance(path, str) and bool(path) and '://' not in path \
        and not path.split('/')[0].endswith(':')


def _image_folders(dataset_cfg: dict) -> Iterator[str]:
    """The image folders of ``data_prefix`` (``img_path`` / ``img``),
    joined to ``data_root`` as mmengine's ``BaseDataset`` does."""
    prefix = dataset_cfg.get('data_prefix')
    if isinstance(prefix, str):  # mmcls takes a str for img_path
        prefix = dict(img_path=prefix)
    if not isinstance(prefix, dict):
        return
    data_root = dataset_cfg.get('data_root')
    for key in ('img_path', 'img'):
        folder = prefix.get(key)
        if isinstance(folder, str) and folder:
            if data_root and not osp.isabs(folder):
                folder = osp.join(data_root, folder)
            yield folder


def check_data_paths(dataset_cfg) -> None:
    """Refuse a local ``data_root``, ``ann_file`` or image folder that does
    not exist, before anything is loaded.

    mmcls alone names a missing annotation file (``FileNotFoundError``
    from its reader) but a missing image folder only when the first batch
    is loaded, inside a dataloader worker.

    Args:
        dataset_cfg (dict): A dataset config (wrappers are followed).

    Raises:
        FileNotFoundError: Naming the path, the dataset and the setting.
    """
    for cfg in _dataset_cfgs(dataset_cfg):
        data_root = cfg.get('data_root')
        if _local(data_root) and not osp.isdir(data_root):
            raise FileNotFoundError(
                f'data_root {data_root!r} of {describe_dataset(cfg)} does '
                f'not exist (it is {osp.abspath(data_root)} from '
                'here): generate or download the data, or set data_root')
        path = annotation_path(cfg)
        if _local(path) and not osp.isfile(path):
            empty = _local(data_root) and not any(
                True for _ in os.scandir(data_root))
            raise FileNotFoundError(
                f'the annotation file {path} of {describe_dataset(cfg)} '
                'does not exist' +
                (f' (data_root {data_root!r} is empty)' if empty else '') +
                ': check ann_file and data_root')
        for folder in _image_folders(cfg):
            if _local(folder) and not osp.isdir(folder):
                raise FileNotFoundError(
                    f'the image folder {folder} (data_root + data_prefix) '
                    f'of {describe_dataset(cfg)} does not exist: check '
                    'data_prefix and data_root')


def check_has_samples(error: ValueError, dataset_cfg) -> None:
    """Turn mmengine's empty-dataset ``ValueError`` into a clear one.

    Args:
        error (ValueError): Raised while building the dataset.
        dataset_cfg (dict): Its config.

    Raises:
        EmptyDataError: When ``error`` is mmengine's "need at least one
            array to concatenate" (a dataset of no samples); otherwise
            nothing is raised here.
    """
    if 'need at least one array to concatenate' in str(error):
        raise EmptyDataError(
            f'{describe_dataset(dataset_cfg)} has no samples (none listed, '
            'found or left by its filter): check ann_file, data_root and '
            'data_prefix') from error


def check_has_batches(loader: DataLoader, dataloader_cfg: dict) -> None:
    """Refuse a dataloader of no batch (fewer samples than one batch).

    Args:
        loader (DataLoader): The built dataloader.
        dataloader_cfg (dict): Its config (``batch_size``, ``drop_last``).

    Raises:
        EmptyDataError: Naming the dataset, how many samples each process
            gets and the settings to change.
    """
    if len(loader) > 0:
        return
    samples = len(loader.dataset)
    per_process = len(loader.sampler) if loader.sampler is not None else \
        samples
    world_size = get_world_size()
    batch_size = dataloader_cfg.get('batch_size')
    raise EmptyDataError(
        f'{describe_dataset(dataloader_cfg.get("dataset"))} has {samples} '
        f'samples, {per_process} per process over {world_size} '
        f'process(es): fewer than one batch (batch_size={batch_size}, '
        f'drop_last={dataloader_cfg.get("drop_last", False)}), so an epoch '
        'has no iteration. Lower that dataloader\'s batch_size (e.g. '
        f'--cfg-options train_dataloader.batch_size={max(per_process, 1)}), '
        'set drop_last=False, use fewer processes or add images')
