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
from typing import Dict

import torch

from .conversion import Conversion
from .release_to_vitdet import select_release_encoder
from .sim_to_vitdet import select_sim_encoder

#: Block-relative keys of mmseg's ``MAE`` that no SIM checkpoint holds
#: (layer scale, relative position bias table and its index buffer).
MAE_TRANSFER_ONLY = ('gamma_1', 'gamma_2', 'attn.relative_position_bias_table',
                     'attn.relative_position_index')


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
    return select_sim_encoder(state_dict, keep_cls_token=True)


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
    return select_release_encoder(state_dict, keep_cls_token=True)
