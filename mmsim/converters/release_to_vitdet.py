# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict, List

import torch

from .conversion import (Conversion, check_keys, check_pos_embed,
                         encoder_blocks)
from .release_layout import encoder_key_map

#: Release keys outside the online encoder (target, projector, predictor).
RELEASE_NON_ENCODER_PREFIXES = ('mm_', 'decoder_', 'mask_token',
                                'projector_decoder_blocks.',
                                'predictor_decoder_blocks.')


def convert_release_to_vitdet(
        state_dict: Dict[str, torch.Tensor]) -> Conversion:
    """Keep the online encoder of the authors' released SIM checkpoint,
    in the keys of the ``SIMViTDet`` detection backbone.

    ``patch_embed.proj`` -> ``patch_embed.projection``, ``blocks.{i}.
    norm1|norm2`` -> ``layers.{i}.ln1|ln2``, ``mlp.fc1|fc2`` ->
    ``ffn.layers.0.0|ffn.layers.1``, ``attn.*`` and ``pos_embed`` (1, 1 +
    G * G, C) unchanged. Dropped: ``cls_token``, the target (``mm_*``),
    projector and predictor.

    Args:
        state_dict (dict[str, torch.Tensor]): The release's ``model`` dict.

    Returns:
        Conversion: Backbone tensors.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present.
    """
    return select_release_encoder(state_dict, keep_cls_token=False)


def select_release_encoder(state_dict: Dict[str, torch.Tensor],
                           keep_cls_token: bool) -> Conversion:
    """The online encoder's tensors of the authors' released SIM
    checkpoint, renamed to mmcls ViT keys, checked strictly.

    Shared by the detection and segmentation converters, which differ only
    in the cls token (ViTDet has none, mmseg's ``MAE`` keeps it).

    Args:
        state_dict (dict[str, torch.Tensor]): The release's ``model`` dict.
        keep_cls_token (bool): Keep ``cls_token`` (else dropped).

    Returns:
        Conversion: The encoder tensors.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present.
    """
    conversion = Conversion()
    missing: List[str] = []
    mapping = {'cls_token': 'cls_token'} if keep_cls_token else {}
    mapping['pos_embed'] = 'pos_embed'
    mapping.update(
        encoder_key_map(encoder_blocks(state_dict, 'blocks.', missing)))
    unexpected = []
    for key in state_dict:
        if key.startswith(RELEASE_NON_ENCODER_PREFIXES) or (
                key == 'cls_token' and not keep_cls_token):
            conversion.dropped.append(key)
        elif key not in mapping:
            unexpected.append(key)
    missing += [k for k in mapping if k not in state_dict]
    check_keys(missing, unexpected, "the SIM authors' release layout")
    check_pos_embed(state_dict['pos_embed'], 'pos_embed')
    for src, dst in mapping.items():
        conversion.add(src, dst, state_dict[src])
    return conversion
