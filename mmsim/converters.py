# Copyright (c) mmsim contributors. All rights reserved.
"""Deprecated: the checkpoint converters are :mod:`mmsim.transfer` now.

``import mmsim.converters`` keeps working with the same public names, and
so do the old module paths (``mmsim.converters.conversion``,
``.phases``, ``.checkpoint_io``, ``.release_layout``, ``.release_to_sim``,
``.sim_to_vitdet`` and ``.release_to_vitdet`` -> ``mmsim.transfer.vitdet``,
``.sim_to_mmseg`` -> ``mmsim.transfer.mmseg``); each import warns.
"""
import sys
import warnings

from .transfer import (CheckpointConversionError, Conversion, checkpoint_io,
                       conversion, convert_and_save, convert_release_to_mmseg,
                       convert_release_to_sim, convert_release_to_vitdet,
                       convert_sim_to_mmseg, convert_sim_to_vitdet,
                       load_state_dict, mmseg, phases, release_layout,
                       release_to_sim, save_checkpoint, vit_encoder_keys,
                       vitdet)

warnings.warn(
    'mmsim.converters is deprecated: import mmsim.transfer instead',
    DeprecationWarning,
    stacklevel=2)

#: The old module paths, now modules of mmsim.transfer.
for _old, _new in dict(
        conversion=conversion,
        phases=phases,
        checkpoint_io=checkpoint_io,
        release_layout=release_layout,
        release_to_sim=release_to_sim,
        sim_to_vitdet=vitdet,
        release_to_vitdet=vitdet,
        sim_to_mmseg=mmseg).items():
    sys.modules.setdefault(f'{__name__}.{_old}', _new)

#: Names that left the package, and what replaces them.
_MOVED = dict(
    select_sim_encoder="mmsim.transfer.select_encoder(state_dict, 'sim', "
    'keep_cls_token)',
    select_release_encoder='mmsim.transfer.select_encoder(state_dict, '
    "'release', keep_cls_token)")


def __getattr__(name: str):
    if name in _MOVED:
        raise AttributeError(f'mmsim.converters.{name} is gone: use '
                             f'{_MOVED[name]}')
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'CheckpointConversionError', 'Conversion', 'convert_and_save',
    'load_state_dict', 'save_checkpoint', 'vit_encoder_keys',
    'convert_release_to_sim', 'convert_release_to_vitdet',
    'convert_sim_to_vitdet', 'convert_release_to_mmseg', 'convert_sim_to_mmseg'
]
