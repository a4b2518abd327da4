# Copyright (c) mmsim contributors. All rights reserved.
"""The authors' released checkpoint into an mmsim ``SIM`` checkpoint
(online encoder, neck and momentum target), to continue pre-training or
evaluate it with mmsim, and the check of the result against a SIM config.

Pure PyTorch and the standard library; only the config check builds the
model (the host's, imported when it runs).
"""
from typing import Dict

import torch

from .conversion import (CheckpointConversionError, Conversion, block_indices,
                         check_keys, check_pos_embed, encoder_blocks,
                         key_report)
from .release_layout import blocks_key_map, decoder_norm, encoder_key_map

#: Release tensors our ``SIM`` does not store: the fixed decoder position
#: embedding (recomputed by ``SIMNeck``) and the target's mask token
#: (averaged but never used by the release).
RELEASE_UNUSED = ('decoder_pos_embed', 'mm_mask_token')


def _num_blocks(keys, prefix: str) -> int:
    indices = block_indices(keys, prefix)
    return max(indices) + 1 if indices else 0


def release_to_sim_key_map(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, str]:
    """Release key -> ``SIM`` state-dict key, for the depths and norm the
    release's keys show.

    Args:
        state_dict (dict[str, torch.Tensor]): The release's ``model`` dict.

    Returns:
        dict[str, str]: The full map, ``pos_embed`` excluded (it feeds both
        branches, see :func:`convert_release_to_sim`).
    """
    keys = list(state_dict)
    depth = _num_blocks(keys, 'blocks.')
    proj_depth = _num_blocks(keys, 'projector_decoder_blocks.')
    pred_depth = _num_blocks(keys, 'predictor_decoder_blocks.')
    norm = decoder_norm(keys)
    mapping = {'cls_token': 'backbone.cls_token'}
    mapping.update(encoder_key_map(depth, '', 'backbone.'))
    mapping['mm_cls_token'] = 'target.module.backbone.cls_token'
    mapping.update(encoder_key_map(depth, 'mm_', 'target.module.backbone.'))
    for prefix, dst in (('', 'neck.projector.'), ('mm_',
                                                  'target.module.projector.')):
        for tensor in ('weight', 'bias'):
            mapping[f'{prefix}decoder_embed.{tensor}'] = \
                f'{dst}embed.{tensor}'
        mapping.update(
            blocks_key_map(f'{prefix}projector_decoder_blocks.',
                           f'{dst}blocks.', proj_depth, norm))
    mapping['mask_token'] = 'neck.predictor.mask_token'
    for tensor in ('weight', 'bias'):
        mapping[f'decoder_pos_mlp.{tensor}'] = f'neck.predictor.pos_mlp.' \
                                              f'{tensor}'
        mapping[f'decoder_pred.{tensor}'] = f'neck.predictor.pred.{tensor}'
    mapping.update(
        blocks_key_map('predictor_decoder_blocks.', 'neck.predictor.blocks.',
                       pred_depth, norm))
    return mapping


def convert_release_to_sim(state_dict: Dict[str, torch.Tensor],
                           target_steps: int = 1) -> Conversion:
    """Convert the authors' released checkpoint into our ``SIM``'s
    state dict (online encoder, neck and momentum target).

    Mapping (release -> ours): encoder as in
    :func:`~.vitdet.convert_release_to_vitdet` under
    ``backbone.``, plus ``cls_token``; ``decoder_embed`` ->
    ``neck.projector.embed``; ``projector_decoder_blocks.{i}`` ->
    ``neck.projector.blocks.{i}``; ``mask_token`` ->
    ``neck.predictor.mask_token``; ``decoder_pos_mlp`` ->
    ``neck.predictor.pos_mlp``; ``predictor_decoder_blocks.{i}`` ->
    ``neck.predictor.blocks.{i}``; ``decoder_pred`` ->
    ``neck.predictor.pred``; ``mm_*`` -> ``target.module.backbone.*`` and
    ``target.module.projector.*``; ``pos_embed`` -> both branches'
    ``pos_embed``. Blocks' ``norm1.bn.*`` -> ``bn1.*`` (``norm1.*`` ->
    ``ln1.*`` for an LN release), ``mlp.fc1|fc2`` ->
    ``ffn.layers.0.0|ffn.layers.1``. Dropped: ``decoder_pos_embed`` and
    ``mm_mask_token``.

    ``target.steps`` (the target's update counter) is set to
    ``target_steps``: a value above 0 tells ``MomentumTarget`` that the
    target is already initialised, so its first update averages instead
    of overwriting the release's target with the online weights.

    Args:
        state_dict (dict[str, torch.Tensor]): The release's ``model`` dict.
        target_steps (int): Saved as ``target.steps``. Defaults to 1.

    Returns:
        Conversion: Tensors of a ``SIM`` state dict.

    Raises:
        CheckpointConversionError: When tensors are missing or unknown
            keys are present.
    """
    if target_steps < 1:
        raise ValueError('target_steps must be >= 1 so the first momentum '
                         f'update keeps the target, got {target_steps}')
    mapping = release_to_sim_key_map(state_dict)
    known = set(mapping) | {'pos_embed'} | set(RELEASE_UNUSED)
    missing = []
    encoder_blocks(state_dict, 'blocks.', missing)  # names a missing encoder
    missing += [
        k for k in list(mapping) + ['pos_embed'] if k not in state_dict
    ]
    unexpected = [k for k in state_dict if k not in known]
    check_keys(missing, unexpected, "the SIM authors' release layout")
    check_pos_embed(state_dict['pos_embed'], 'pos_embed')

    conversion = Conversion()
    for src, dst in mapping.items():
        conversion.add(src, dst, state_dict[src])
    for dst in ('backbone.pos_embed', 'target.module.backbone.pos_embed'):
        conversion.add('pos_embed', dst, state_dict['pos_embed'])
    conversion.add('(set)', 'target.steps',
                   torch.tensor(target_steps, dtype=torch.long))
    conversion.dropped += [k for k in RELEASE_UNUSED if k in state_dict]
    return conversion


def check_against_config(state_dict: Dict[str, torch.Tensor],
                         config: str) -> None:
    """Load ``state_dict`` strictly into the model of the SIM ``config``.

    Args:
        state_dict (dict[str, torch.Tensor]): Converted tensors.
        config (str): A SIM pre-training config file.

    Raises:
        CheckpointConversionError: One line naming the config and the
            missing or unexpected keys.
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import mmsim  # noqa: F401  (registers SIM)
    from ..hosts import host
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope(host().NAME):
        model = host().MODELS.build(cfg.model)
    result = model.load_state_dict(state_dict, strict=False)
    report = key_report(result.missing_keys, result.unexpected_keys)
    if report:
        raise CheckpointConversionError(
            f'the converted tensors do not fit the model of {config}: '
            f'{report}; nothing was written')


__all__ = [
    'RELEASE_UNUSED', 'release_to_sim_key_map', 'convert_release_to_sim',
    'check_against_config'
]
