# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict, List

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
    return select_sim_encoder(state_dict, keep_cls_token=False)


def select_sim_encoder(state_dict: Dict[str, torch.Tensor],
                       keep_cls_token: bool) -> Conversion:
    """The online encoder's tensors of an mmsim ``SIM`` state dict, in
    mmcls ViT keys (``backbone.`` removed), checked strictly.

    Shared by the detection and segmentation converters, which differ only
    in the cls token (ViTDet has none, mmseg's ``MAE`` keeps it).

    Args:
        state_dict (dict[str, torch.Tensor]): A ``SIM`` model's state dict.
        keep_cls_token (bool): Keep ``backbone.cls_token`` (else dropped).

    Returns:
        Conversion: The encoder tensors.

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
    if not keep_cls_token and 'cls_token' in encoder:
        del encoder['cls_token']
        conversion.dropped.append('backbone.cls_token')
    missing: List[str] = []
    expected = vit_encoder_keys(
        encoder_blocks(['backbone.' + k for k in encoder], 'backbone.layers.',
                       missing))
    if keep_cls_token:
        expected = ['cls_token'] + expected
    missing += ['backbone.' + k for k in expected if k not in encoder]
    unexpected += ['backbone.' + k for k in encoder if k not in expected]
    check_keys(missing, unexpected, 'an mmsim SIM checkpoint')
    check_pos_embed(encoder['pos_embed'], 'backbone.pos_embed')
    for key in expected:
        conversion.add('backbone.' + key, key, encoder[key])
    return conversion
