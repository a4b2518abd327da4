# Copyright (c) mmsim contributors. All rights reserved.
"""SIM encoders into mmsegmentation's ``MAE`` backbone (pure PyTorch:
nothing here imports mmseg).

mmseg's ``MAE`` (``mmseg/models/backbones/mae.py``) is the ViT of the
MAE/BEiT segmentation protocol, which the SIM paper follows for ADE20k:
cls token, absolute position embedding, pre-norm blocks with a zero-init
relative position bias per block and layer scale, no final norm. Its
state-dict keys equal mmcls ViT's for every tensor a SIM encoder has
(``cls_token``, ``pos_embed``, ``patch_embed.projection.*``, ``layers.{i}.
ln1|attn.qkv|attn.proj|ln2|ffn.layers.0.0|ffn.layers.1.*``), so an mmsim
checkpoint converts by a prefix filter and the authors' release by
:func:`~.release_layout.encoder_key_map`. The tensors ``MAE`` adds,
:data:`MAE_TRANSFER_ONLY`, are not in any SIM checkpoint and keep their
construction values: ``relative_position_bias_table`` zeros (MAE turns the
bias on only for transfer, initialised at zero), ``gamma_1|gamma_2`` the
config's ``init_values`` (1.0 in our configs: each pre-trained block's
function unchanged at the start), ``relative_position_index`` a buffer.

Position embedding: kept as pre-trained, (1, 1 + G * G, C) with SIM's zero
cls row at the pre-training grid G (14 for 224 px); ``MAE.init_weights``
resizes the grid bicubically to the segmentation input's (32 x 32 at
512 px), cls row untouched, and fine-tunes it as a parameter, as the
MAE/BEiT segmentation code does with MAE's own fixed sin-cos embedding.
"""
from typing import Dict, List

import torch

from .conversion import (Conversion, check_keys, check_pos_embed,
                         encoder_blocks, vit_encoder_keys)
from .release_layout import encoder_key_map
from .release_to_vitdet import RELEASE_NON_ENCODER_PREFIXES
from .sim_to_vitdet import SIM_DROPPED_PREFIXES

#: Block-relative keys of mmseg's ``MAE`` that no SIM checkpoint holds
#: (layer scale, relative position bias table and its index buffer).
MAE_TRANSFER_ONLY = ('gamma_1', 'gamma_2', 'attn.relative_position_bias_table',
                     'attn.relative_position_index')


def mmseg_mae_keys(num_layers: int) -> List[str]:
    """Keys of mmseg's ``MAE`` that a SIM encoder fills.

    Args:
        num_layers (int): Blocks.

    Returns:
        list[str]: ``cls_token`` and :func:`~.conversion.vit_encoder_keys`
        (``pos_embed``, ``patch_embed.projection.*``, 12 per block).
    """
    return ['cls_token'] + vit_encoder_keys(num_layers)


def is_transfer_only(key: str) -> bool:
    """Whether ``key`` of an mmseg ``MAE`` state dict is one of
    :data:`MAE_TRANSFER_ONLY` (``layers.{i}.gamma_1``, ...)."""
    parts = key.split('.', 2)
    return len(parts) == 3 and parts[0] == 'layers' and \
        parts[1].isdigit() and parts[2] in MAE_TRANSFER_ONLY


def convert_sim_to_mmseg(state_dict: Dict[str, torch.Tensor]) -> Conversion:
    """Keep the online encoder of an mmsim ``SIM`` checkpoint, in the keys
    of mmseg's ``MAE`` backbone.

    ``backbone.X`` becomes ``X`` for the cls token, the position embedding
    (1, 1 + G * G, C) at its pre-training grid (resized by ``MAE`` when it
    loads), the patch embedding and the blocks. Dropped: the momentum
    target (``target.*``), the neck, head and data preprocessor.

    Args:
        state_dict (dict[str, torch.Tensor]): A ``SIM`` model's state dict.

    Returns:
        Conversion: Backbone tensors, without the ``backbone.`` prefix.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present (an extra final norm included).
    """
    conversion = Conversion()
    encoder, unexpected = {}, []
    for key, tensor in state_dict.items():
        if key.startswith('backbone.'):
            encoder[key[len('backbone.'):]] = tensor
        elif key.startswith(SIM_DROPPED_PREFIXES):
            conversion.dropped.append(key)
        else:
            unexpected.append(key)
    missing: List[str] = []
    expected = mmseg_mae_keys(
        encoder_blocks(['backbone.' + k for k in encoder], 'backbone.layers.',
                       missing))
    missing += ['backbone.' + k for k in expected if k not in encoder]
    unexpected += ['backbone.' + k for k in encoder if k not in expected]
    check_keys(missing, unexpected, 'an mmsim SIM checkpoint')
    check_pos_embed(encoder['pos_embed'], 'backbone.pos_embed')
    for key in expected:
        conversion.add('backbone.' + key, key, encoder[key])
    return conversion


def convert_release_to_mmseg(
        state_dict: Dict[str, torch.Tensor]) -> Conversion:
    """Keep the online encoder of the authors' released SIM checkpoint,
    in the keys of mmseg's ``MAE`` backbone.

    ``cls_token`` and ``pos_embed`` unchanged, ``patch_embed.proj`` ->
    ``patch_embed.projection``, ``blocks.{i}.norm1|norm2`` ->
    ``layers.{i}.ln1|ln2``, ``mlp.fc1|fc2`` -> ``ffn.layers.0.0|
    ffn.layers.1``, ``attn.*`` unchanged. Dropped: the target (``mm_*``),
    projector and predictor.

    Args:
        state_dict (dict[str, torch.Tensor]): The release's ``model`` dict.

    Returns:
        Conversion: Backbone tensors.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present.
    """
    conversion = Conversion()
    missing: List[str] = []
    mapping = {'cls_token': 'cls_token', 'pos_embed': 'pos_embed'}
    mapping.update(
        encoder_key_map(encoder_blocks(state_dict, 'blocks.', missing)))
    unexpected = []
    for key in state_dict:
        if key.startswith(RELEASE_NON_ENCODER_PREFIXES):
            conversion.dropped.append(key)
        elif key not in mapping:
            unexpected.append(key)
    missing += [k for k in mapping if k not in state_dict]
    check_keys(missing, unexpected, "the SIM authors' release layout")
    check_pos_embed(state_dict['pos_embed'], 'pos_embed')
    for src, dst in mapping.items():
        conversion.add(src, dst, state_dict[src])
    return conversion
