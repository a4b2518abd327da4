# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict

import torch

from .conversion import (Conversion, check_keys, check_pos_embed,
                         encoder_blocks, vit_encoder_keys)

#: Top-level prefixes of a ``SIM`` state dict that detection does not use.
SIM_DROPPED_PREFIXES = ('target.', 'neck.', 'head.', 'data_preprocessor.')


def convert_sim_to_vitdet(state_dict: Dict[str, torch.Tensor]) -> Conversion:
    """Keep the online encoder of an mmsim ``SIM`` checkpoint, in the keys
    of the ``SIMViTDet`` detection backbone.

    ``backbone.X`` becomes ``X`` (a prefix filter: both are mmcls ViTs);
    the cls token, the momentum target (``target.*``), the neck and head
    are dropped. The position embedding keeps its (1, 1 + G * G, C)
    pre-training grid; ``SIMViTDet`` resizes it to its inputs.

    Args:
        state_dict (dict[str, torch.Tensor]): A ``SIM`` model's state dict.

    Returns:
        Conversion: Backbone tensors, without the ``backbone.`` prefix.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present.
    """
    conversion = Conversion()
    encoder = {}
    unexpected = []
    for key, tensor in state_dict.items():
        if key.startswith('backbone.'):
            encoder[key[len('backbone.'):]] = tensor
        elif key.startswith(SIM_DROPPED_PREFIXES):
            conversion.dropped.append(key)
        else:
            unexpected.append(key)
    if 'cls_token' in encoder:
        del encoder['cls_token']
        conversion.dropped.append('backbone.cls_token')
    missing = []
    expected = vit_encoder_keys(
        encoder_blocks(['backbone.' + k for k in encoder], 'backbone.layers.',
                       missing))
    missing += ['backbone.' + k for k in expected if k not in encoder]
    unexpected += ['backbone.' + k for k in encoder if k not in expected]
    check_keys(missing, unexpected, 'an mmsim SIM checkpoint')
    check_pos_embed(encoder['pos_embed'], 'backbone.pos_embed')
    for key in expected:
        conversion.add('backbone.' + key, key, encoder[key])
    return conversion
