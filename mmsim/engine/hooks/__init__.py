# Copyright (c) mmsim contributors. All rights reserved.
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .knn_monitor_hook import KNNMonitorHook
from .training_checks_hook import TrainingChecksHook

__all__ = ['AtomicCheckpointHook', 'KNNMonitorHook', 'TrainingChecksHook']
