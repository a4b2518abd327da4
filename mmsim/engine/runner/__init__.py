# Copyright (c) mmsim contributors. All rights reserved.
from .cpu_distributed import cpu_model_wrapper_cfg, init_cpu_process_group
from .dataloader_checks import EmptyDataError
from .sim_runner import SIMRunner

__all__ = [
    'EmptyDataError', 'SIMRunner', 'cpu_model_wrapper_cfg',
    'init_cpu_process_group'
]
