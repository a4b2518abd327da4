# Copyright (c) mmsim contributors. All rights reserved.
"""Hooks. ``AtomicCheckpointHook`` and ``PreemptionHook`` register in
mmengine's ``HOOKS`` and are imported with the package; ``KNNMonitorHook``
and ``TrainingChecksHook`` register in the host's, so they are imported on
first use here or by :mod:`mmsim.registration` when the host is
imported."""
import importlib

from .atomic_checkpoint_hook import AtomicCheckpointHook, CheckpointSaveError
from .preemption_hook import PreemptionHook

#: Hooks that import mmselfsup -> their module, imported on first access.
HOST_HOOKS = {
    'KNNMonitorHook': 'knn_monitor_hook',
    'TrainingChecksHook': 'training_checks_hook'
}


def __getattr__(name: str):
    if name in HOST_HOOKS:
        module = importlib.import_module(f'.{HOST_HOOKS[name]}', __name__)
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'AtomicCheckpointHook', 'CheckpointSaveError', 'KNNMonitorHook',
    'PreemptionHook', 'TrainingChecksHook'
]
