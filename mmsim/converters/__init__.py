# Copyright (c) mmsim contributors. All rights reserved.
"""Checkpoint key mapping (pure PyTorch: nothing here imports mmdet or
mmseg)."""
from .checkpoint_io import convert_and_save, load_state_dict, save_checkpoint
from .conversion import CheckpointConversionError, Conversion, vit_encoder_keys
from .release_to_sim import convert_release_to_sim
from .release_to_vitdet import convert_release_to_vitdet
from .sim_to_mmseg import convert_release_to_mmseg, convert_sim_to_mmseg
from .sim_to_vitdet import convert_sim_to_vitdet

__all__ = [
    'CheckpointConversionError', 'Conversion', 'convert_and_save',
    'load_state_dict', 'save_checkpoint', 'vit_encoder_keys',
    'convert_release_to_sim', 'convert_release_to_vitdet',
    'convert_sim_to_vitdet', 'convert_release_to_mmseg', 'convert_sim_to_mmseg'
]
