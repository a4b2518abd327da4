# Copyright (c) mmsim contributors. All rights reserved.
"""The fine-tune tasks, ``'det'`` (ViTDet Mask R-CNN, :mod:`.vitdet`) and
``'seg'`` (UperNet on mmseg's ``MAE``, :mod:`.mmseg`): what the driver
calls for each, and the one table of their metrics."""
import math
from typing import Any, Callable, Dict, NamedTuple, Optional, Sequence

import torch

from . import mmseg, vitdet
from .conversion import Conversion


class Task(NamedTuple):
    """What fine-tuning a SIM encoder for one task takes.

    Attributes:
        convert (callable): SIM state dict -> :class:`Conversion` of the
            task's backbone.
        backbone (callable): ``(conversion, num_heads)`` -> the config's
            backbone settings for those tensors.
        adapt_data (callable): ``(cfg, data_root)``: point the config at
            the data.
        adapt_backbone (callable): ``(cfg, backbone)``: set the backbone
            and what follows its width and depth.
        adapt_schedule (callable): ``(cfg, max_iters)``: shorten or
            lengthen the schedule.
        backbone_file (str): Name of the converted weights in the run's
            work dir.
        metric_keys (tuple[str]): Metrics of the table, in order.
        metric_prefix (str): Prefix of those keys in the runner's results.
        metric_scale (float): Factor from a result to the table's %.
    """
    convert: Callable[[Dict[str, torch.Tensor]], Conversion]
    backbone: Callable[[Conversion, Optional[int]], Dict[str, Any]]
    adapt_data: Callable[[Any, str], None]
    adapt_backbone: Callable[[Any, Dict[str, Any]], None]
    adapt_schedule: Callable[[Any, int], None]
    backbone_file: str
    metric_keys: Sequence[str]
    metric_prefix: str = ''
    metric_scale: float = 1.


#: The tasks by name.
TASKS = dict(
    det=Task(vitdet.convert_sim_to_vitdet, vitdet.backbone_arch,
             vitdet.adapt_data, vitdet.adapt_backbone, vitdet.adapt_schedule,
             'sim_vitdet_backbone.pth', vitdet.METRIC_KEYS, 'coco/', 100.),
    seg=Task(mmseg.convert_sim_to_mmseg, mmseg.backbone_settings,
             mmseg.adapt_data, mmseg.adapt_backbone, mmseg.adapt_schedule,
             'sim_mmseg_backbone.pth', mmseg.METRIC_KEYS))


def get_task(task: str) -> Task:
    """The :class:`Task` named ``task``.

    Raises:
        ValueError: For a name not in :data:`TASKS`, naming them.
    """
    if task not in TASKS:
        raise ValueError(f'task must be one of {sorted(TASKS)}, got {task!r}')
    return TASKS[task]


def format_metrics(results: Dict[str, Dict[str, float]],
                   task: str = 'det',
                   keys: Optional[Sequence[str]] = None) -> str:
    """A markdown table of a task's metrics (%), one row per run.

    Args:
        results (dict[str, dict[str, float]]): The runner's metrics by run
            name (mmdet ``CocoMetric``'s ``coco/bbox_mAP`` fractions,
            mmseg ``IoUMetric``'s ``mIoU`` percentages).
        task (str): ``'det'`` or ``'seg'``. Defaults to ``'det'``.
        keys (Sequence[str], optional): Columns, without the task's
            prefix. Defaults to the task's ``metric_keys``.

    Returns:
        str: The table; a missing metric shows as ``nan``.
    """
    spec = get_task(task)
    keys = spec.metric_keys if keys is None else keys
    lines = [
        '| init | ' + ' | '.join(keys) + ' |', '|---|' + '---|' * len(keys)
    ]
    for name, metrics in results.items():
        values = [
            spec.metric_scale * metrics.get(spec.metric_prefix + k, math.nan)
            for k in keys
        ]
        lines.append(f'| {name} | ' + ' | '.join(f'{v:.1f}'
                                                 for v in values) + ' |')
    return '\n'.join(lines)


__all__ = ['Task', 'TASKS', 'get_task', 'format_metrics']
