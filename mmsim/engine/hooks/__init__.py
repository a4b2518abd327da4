# Copyright (c) mmsim contributors. All rights reserved.
from .knn_monitor_hook import KNNMonitorHook
from .training_checks_hook import TrainingChecksHook

__all__ = ['KNNMonitorHook', 'TrainingChecksHook']
