# Copyright (c) mmsim contributors. All rights reserved.
from .checkpoint_globals import allow_mmengine_checkpoint_types
from .cpu_distributed import cpu_model_wrapper_cfg, init_cpu_process_group
from .dataloader_checks import EmptyDataError
from .resume_checks import CorruptCheckpointError
from .sim_runner import SIMRunner
from .work_dir_lock import WorkDirLock, WorkDirLockedError

__all__ = [
    'allow_mmengine_checkpoint_types', 'CorruptCheckpointError',
    'EmptyDataError', 'SIMRunner', 'WorkDirLock', 'WorkDirLockedError',
    'cpu_model_wrapper_cfg', 'init_cpu_process_group'
]

# torch >= 2.6: mmengine's resume/load_from under weights_only (module doc)
allow_mmengine_checkpoint_types()
