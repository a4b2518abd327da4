# Copyright (c) mmsim contributors. All rights reserved.
"""The class -> label map of a labelled dataset, and a check that the
splits an evaluation compares share one.

A kNN (or linear) evaluation counts a query as right when its predicted
label number equals its own: the train and val splits must give every
class the same number. mmcls's folder scan (``CustomDataset`` with
``ann_file=''``) numbers the subfolders in sorted order and takes every
subfolder as a class, also one without images (it only logs a warning),
so a stray folder in one split (a ``meta/`` that holds an image list)
shifts the numbers of the classes after it in that split alone, and the
accuracy is computed against wrong labels without an error.
"""
from typing import Dict, Mapping, Optional, Sequence

#: Names shown in full in an error; longer lists are cut.
_SHOWN = 30


def label_map(dataset: object) -> Optional[Dict[str, int]]:
    """The class name -> label number map of a dataset, if it has one.

    Args:
        dataset (object): An mmengine / mmcls dataset. A folder scan
            (``folder_to_idx``, set by mmcls's ``CustomDataset`` with
            ``ann_file=''``) gives the numbers its samples carry; otherwise
            the ``classes`` of its metainfo, numbered in order.

    Returns:
        dict[str, int], optional: None when the dataset names no classes
        (its labels are bare numbers from an annotation file).
    """
    scanned = getattr(dataset, 'folder_to_idx', None)
    if scanned:
        return dict(scanned)
    metainfo = getattr(dataset, 'metainfo', None) or {}
    classes = metainfo.get('classes')
    if not classes:
        return None
    return {str(name): index for index, name in enumerate(classes)}


def _describe(name: str, dataset: object,
              labels: Optional[Mapping[str, int]]) -> str:
    prefix = getattr(dataset, 'data_prefix', None) or {}
    folder = prefix.get('img_path') or getattr(dataset, 'data_root', '')
    where = f' ({folder})' if folder else ''
    if labels is None:
        return f'  {name}{where}: no class names (bare label numbers)'
    ordered = sorted(labels, key=lambda key: labels[key])
    shown = ordered[:_SHOWN]
    more = f', ... {len(ordered) - _SHOWN} more' if \
        len(ordered) > _SHOWN else ''
    return (f'  {name}{where}: {len(ordered)} classes, labels 0.. in this '
            f'order: {shown}{more}')


def check_same_label_maps(datasets: Mapping[str, object],
                          owner: str = 'evaluation') -> None:
    """Refuse splits whose class lists or label numbers differ.

    Args:
        datasets (Mapping[str, object]): Split name -> dataset, e.g.
            ``{'train': ..., 'val': ...}``.
        owner (str): Who checks, for the message. Defaults to
            ``'evaluation'``.

    Raises:
        ValueError: Naming every split's folder and its classes in label
            order, the classes found in only some splits and how to fix it.
            Splits that all name no classes pass (nothing to compare).
    """
    maps = {name: label_map(data) for name, data in datasets.items()}
    canonical = {
        None if m is None else tuple(sorted(m.items()))
        for m in maps.values()
    }
    if len(canonical) <= 1:
        return
    names: Sequence[str] = list(maps)
    lines = [
        f'{owner}: the {" and ".join(names)} splits label their classes '
        'differently, so every query would be scored against wrong '
        'labels:'
    ]
    lines += [_describe(n, datasets[n], maps[n]) for n in names]
    known = [set(m) for m in maps.values() if m is not None]
    if len(known) == len(maps):
        for name in names:
            extra = sorted(set(maps[name]) - set.intersection(*known))
            if extra:
                lines.append(f'  only in {name}: {extra}')
    lines.append(
        "mmcls's folder scan (ann_file='') takes every subfolder as a "
        'class, also one without images (e.g. a meta/ folder holding an '
        'image list): give every split the same class folders (move other '
        'folders out), or annotation files with the same numbering and '
        'the same `classes`.')
    raise ValueError('\n'.join(lines))
