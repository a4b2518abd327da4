# Copyright (c) mmsim contributors. All rights reserved.
"""The online encoder of a SIM checkpoint, in mmcls ViT keys: the one
selection every transfer target starts from (pure PyTorch).

Both sources hold the same encoder under other names: an mmsim ``SIM``
state dict under ``backbone.`` (mmcls ViT keys already), the authors'
release in timm-style names (:mod:`.release_layout`). The targets differ
only in the cls token: ViTDet has none, mmseg's ``MAE`` keeps it.
"""
from typing import Dict, List

import torch

from .conversion import (Conversion, check_keys, check_pos_embed,
                         encoder_blocks, vit_encoder_keys)
from .release_layout import encoder_key_map

#: The checkpoints an encoder can be selected from.
SOURCES = ('sim', 'release')
#: Top-level prefixes of a ``SIM`` state dict outside the online encoder.
SIM_DROPPED_PREFIXES = ('target.', 'neck.', 'head.', 'data_preprocessor.')
#: Release keys outside the online encoder (target, projector, predictor).
RELEASE_NON_ENCODER_PREFIXES = ('mm_', 'decoder_', 'mask_token',
                                'projector_decoder_blocks.',
                                'predictor_decoder_blocks.')


def select_encoder(state_dict: Dict[str, torch.Tensor], source: str,
                   keep_cls_token: bool) -> Conversion:
    """The online encoder's tensors of a SIM checkpoint, renamed to mmcls
    ViT keys and checked strictly.

    Output keys: ``cls_token`` (1, 1, C) when kept, ``pos_embed``
    (1, 1 + G * G, C) at the pre-training grid G,
    ``patch_embed.projection.*`` and the 12 tensors of each block
    ``layers.{i}.*``. Everything else is dropped (and listed as such).

    Args:
        state_dict (dict[str, torch.Tensor]): A ``SIM`` model's state
            dict (``source='sim'``) or the release's ``model`` dict
            (``source='release'``).
        source (str): ``'sim'`` or ``'release'``.
        keep_cls_token (bool): Keep the cls token (else dropped).

    Returns:
        Conversion: The encoder tensors.

    Raises:
        ValueError: When ``source`` is neither.
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present.
    """
    if source == 'sim':
        return _select_sim_encoder(state_dict, keep_cls_token)
    if source == 'release':
        return _select_release_encoder(state_dict, keep_cls_token)
    raise ValueError(f'source must be one of {SOURCES}, got {source!r}')


def _select_sim_encoder(state_dict: Dict[str, torch.Tensor],
                        keep_cls_token: bool) -> Conversion:
    """:func:`select_encoder` of an mmsim ``SIM`` state dict:
    ``backbone.X`` -> ``X`` (a prefix filter: both are mmcls ViTs)."""
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


def _select_release_encoder(state_dict: Dict[str, torch.Tensor],
                            keep_cls_token: bool) -> Conversion:
    """:func:`select_encoder` of the authors' release: ``patch_embed.proj``
    -> ``patch_embed.projection``, ``blocks.{i}.norm1|norm2`` ->
    ``layers.{i}.ln1|ln2``, ``mlp.fc1|fc2`` -> ``ffn.layers.0.0|
    ffn.layers.1``; ``attn.*``, ``pos_embed`` and ``cls_token``
    unchanged."""
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


__all__ = ['SOURCES', 'select_encoder']
