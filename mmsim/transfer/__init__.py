# Copyright (c) mmsim contributors. All rights reserved.
"""Transfer of SIM encoders: checkpoint conversion for each target (ViTDet
through mmdet, mmseg's ``MAE``, mmsim's own ``SIM`` from the authors'
release) and the one fine-tune driver for detection and segmentation.

Importing it imports neither mmdet, mmseg, mmselfsup nor mmcls: the key
mapping is pure PyTorch, and the toolboxes are reached inside the
functions that need them (a config check, the runner, through the
config's ``custom_imports`` and ``default_scope``).
"""
from .checkpoint_io import load_state_dict, read_checkpoint, save_checkpoint
from .cli import convert_and_save, converter_main
from .conversion import CheckpointConversionError, Conversion, vit_encoder_keys
from .encoder import SOURCES, select_encoder
from .finetune import (build_finetune_config, num_heads_from_meta,
                       run_finetune, run_finetunes)
from .labelled_output import LinePrefixer, labelled_output
from .mmseg import (backbone_settings, convert_release_to_mmseg,
                    convert_sim_to_mmseg, spread_out_indices)
from .release_to_sim import convert_release_to_sim
from .tasks import TASKS, format_metrics
from .vitdet import (backbone_arch, convert_release_to_vitdet,
                     convert_sim_to_vitdet)

__all__ = [
    'CheckpointConversionError', 'Conversion', 'vit_encoder_keys', 'SOURCES',
    'select_encoder', 'load_state_dict', 'read_checkpoint', 'save_checkpoint',
    'convert_and_save', 'converter_main', 'convert_sim_to_vitdet',
    'convert_release_to_vitdet', 'backbone_arch', 'convert_sim_to_mmseg',
    'convert_release_to_mmseg', 'backbone_settings', 'spread_out_indices',
    'convert_release_to_sim', 'TASKS', 'format_metrics', 'num_heads_from_meta',
    'build_finetune_config', 'run_finetune', 'run_finetunes', 'LinePrefixer',
    'labelled_output'
]
