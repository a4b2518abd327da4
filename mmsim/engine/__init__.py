# Copyright (c) mmsim contributors. All rights reserved.
"""Engine pieces; the mmselfsup-bound hooks are imported on first access
(see :mod:`mmsim.engine.hooks`)."""
from . import hooks
from .hooks import AtomicCheckpointHook, CheckpointSaveError, PreemptionHook
from .optimizers import SkipFrozenOptimWrapperConstructor
from .runner import (CorruptCheckpointError, EmptyDataError, SIMRunner,
                     WorkDirLock, WorkDirLockedError, cpu_model_wrapper_cfg,
                     init_cpu_process_group)


def __getattr__(name: str):
    if name in hooks.HOST_HOOKS:
        return getattr(hooks, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'AtomicCheckpointHook', 'CheckpointSaveError', 'KNNMonitorHook',
    'PreemptionHook', 'TrainingChecksHook',
    'SkipFrozenOptimWrapperConstructor', 'CorruptCheckpointError',
    'EmptyDataError', 'SIMRunner', 'WorkDirLock', 'WorkDirLockedError',
    'cpu_model_wrapper_cfg', 'init_cpu_process_group'
]
