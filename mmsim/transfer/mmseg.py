# Copyright (c) mmsim contributors. All rights reserved.
"""SIM encoders into mmsegmentation's ``MAE`` backbone (UperNet through
mmseg): the converters, the backbone settings read from the converted
tensors, the metrics, the fine-tune config's adaptation and the check of
converted tensors against a config.

mmseg's ``MAE`` is the ViT of the MAE/BEiT segmentation protocol, which
the SIM paper follows for ADE20k: cls token, absolute position embedding,
pre-norm blocks with a zero-init relative position bias per block and
layer scale, no final norm. Its keys equal mmcls ViT's for every tensor a
SIM encoder has, so the encoder converts as selected
(:func:`~.encoder.select_encoder`, cls token kept). The tensors ``MAE``
adds, :data:`MAE_TRANSFER_ONLY`, are in no SIM checkpoint and keep their
construction values: the bias table zeros, ``gamma_1|gamma_2`` the
config's ``init_values`` (1.0 in our configs: each pre-trained block's
function unchanged at the start), the index a buffer. The position
embedding keeps its pre-training grid (1, 1 + G * G, C), SIM's zero cls
row first; ``MAE.init_weights`` resizes the grid bicubically to the
input's (32 x 32 at 512 px) and fine-tunes it, as the MAE/BEiT code does.

Nothing here imports mmseg: the config check reaches it through
mmengine's registry in mmseg's scope, as mmengine's runner does.
"""
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import torch

from .conversion import (CheckpointConversionError, Conversion, block_indices,
                         key_report, list_keys)
from .encoder import select_encoder

if TYPE_CHECKING:
    from mmengine.config import Config

#: Block-relative keys of mmseg's ``MAE`` that no SIM checkpoint holds
#: (layer scale, relative position bias table and its index buffer).
MAE_TRANSFER_ONLY = ('gamma_1', 'gamma_2', 'attn.relative_position_bias_table',
                     'attn.relative_position_index')
#: The metrics of mmseg's ``IoUMetric`` (percentages), in table order.
METRIC_KEYS = ('mIoU', 'aAcc', 'mAcc')


def is_transfer_only(key: str) -> bool:
    """Whether ``key`` of an mmseg ``MAE`` state dict is one of
    :data:`MAE_TRANSFER_ONLY` (``layers.{i}.gamma_1``, ...)."""
    parts = key.split('.', 2)
    return len(parts) == 3 and parts[0] == 'layers' and \
        parts[1].isdigit() and parts[2] in MAE_TRANSFER_ONLY


def convert_sim_to_mmseg(state_dict: Dict[str, torch.Tensor]) -> Conversion:
    """Keep the online encoder of an mmsim ``SIM`` checkpoint, in the keys
    of mmseg's ``MAE`` backbone: ``backbone.X`` becomes ``X`` for the cls
    token, the position embedding (1, 1 + G * G, C), the patch embedding
    and the blocks. Dropped: the momentum target, neck, head and data
    preprocessor.

    Args:
        state_dict (dict[str, torch.Tensor]): A ``SIM`` model's state dict.

    Returns:
        Conversion: Backbone tensors, without the ``backbone.`` prefix.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present (an extra final norm included).
    """
    return select_encoder(state_dict, 'sim', keep_cls_token=True)


def convert_release_to_mmseg(
        state_dict: Dict[str, torch.Tensor]) -> Conversion:
    """Keep the online encoder of the authors' released SIM checkpoint,
    in the keys of mmseg's ``MAE`` backbone: ``cls_token``, ``pos_embed``
    and ``attn.*`` unchanged, ``patch_embed.proj`` ->
    ``patch_embed.projection``, ``blocks.{i}.norm1|norm2`` ->
    ``layers.{i}.ln1|ln2``, ``mlp.fc1|fc2`` -> ``ffn.layers.0.0|
    ffn.layers.1``. Dropped: the target (``mm_*``), projector, predictor.

    Args:
        state_dict (dict[str, torch.Tensor]): The release's ``model`` dict.

    Returns:
        Conversion: Backbone tensors.

    Raises:
        CheckpointConversionError: When encoder tensors are missing or
            unknown keys are present.
    """
    return select_encoder(state_dict, 'release', keep_cls_token=True)


def spread_out_indices(num_layers: int) -> List[int]:
    """Four blocks whose outputs feed the 4-level pyramid, spread over
    the depth: block ``round(k * L / 4)`` (1-based) for k = 1..4, e.g.
    ``[1, 2, 3, 5]`` for 6 blocks (the recipe's 4, 6, 8, 12 of 12, 1-based,
    at half the depth).

    Args:
        num_layers (int): Blocks L of the backbone.

    Returns:
        list[int]: Four distinct 0-based block indices, the last included.

    Raises:
        ValueError: When ``num_layers < 4`` (fewer blocks than levels).
    """
    if num_layers < 4:
        raise ValueError('the UperNet pyramid takes 4 block outputs; the '
                         f'backbone has {num_layers} blocks (expected >= 4)')
    return [round(k * num_layers / 4) - 1 for k in (1, 2, 3, 4)]


def backbone_settings(conversion: Conversion,
                      num_heads: Optional[int] = None) -> Dict[str, int]:
    """mmseg ``MAE`` settings of converted backbone tensors.

    Args:
        conversion (Conversion): Output of :func:`convert_sim_to_mmseg`:
            ``pos_embed`` (1, 1 + G * G, C), ``patch_embed.projection.
            weight`` (C, 3, P, P), ``layers.{i}.ffn.layers.0.0.weight``
            (F, C).
        num_heads (int, optional): Attention heads (not visible in the
            tensors). Defaults to one head per 64 channels.

    Returns:
        dict: ``embed_dims`` C, ``num_layers``, ``num_heads``,
        ``mlp_ratio`` F / C and ``patch_size`` P.

    Raises:
        ValueError: When F is not a multiple of C (``MAE`` takes an
            integer ``mlp_ratio``).
    """
    state = conversion.state_dict
    embed_dims = state['pos_embed'].shape[-1]
    ffn = state['layers.0.ffn.layers.0.0.weight'].shape[0]
    if ffn % embed_dims:
        raise ValueError(f'the FFN width {ffn} is not a multiple of the '
                         f'embedding width {embed_dims}: mmseg MAE takes an '
                         'integer mlp_ratio')
    return dict(
        embed_dims=embed_dims,
        num_layers=len(block_indices(state, 'layers.')),
        num_heads=num_heads or max(1, embed_dims // 64),
        mlp_ratio=ffn // embed_dims,
        patch_size=state['patch_embed.projection.weight'].shape[-1])


def adapt_data(cfg: 'Config', data_root: str) -> None:
    """Point a segmentation config at a data folder.

    Args:
        cfg (Config): Edited in place.
        data_root (str): ``train/`` and ``val/`` images, their label maps
            in ``labels/{train,val}/``.
    """
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root


def adapt_backbone(cfg: 'Config', backbone: Dict[str, Any]) -> None:
    """Give the config's ``MAE`` the settings of :func:`backbone_settings`;
    the neck, the heads, the layer decay and, for another depth, the
    pyramid's blocks follow.

    Args:
        cfg (Config): Edited in place.
        backbone (dict): What :func:`backbone_settings` returns.
    """
    old_layers = cfg.model.backbone.num_layers
    cfg.model.backbone.update(backbone)
    embed_dims = cfg.model.backbone.embed_dims
    num_layers = cfg.model.backbone.num_layers
    if num_layers != old_layers:
        cfg.model.backbone.out_indices = spread_out_indices(num_layers)
    cfg.model.neck.embed_dim = embed_dims
    cfg.model.decode_head.in_channels = [embed_dims] * len(
        cfg.model.backbone.out_indices)
    cfg.model.auxiliary_head.in_channels = embed_dims
    cfg.optim_wrapper.paramwise_cfg.num_layers = num_layers


def adapt_schedule(cfg: 'Config', max_iters: int) -> None:
    """Train ``max_iters`` iterations: the warm-up keeps its share of
    them, the decay ends with them, one checkpoint at the end.

    Args:
        cfg (Config): Edited in place.
        max_iters (int): Training iterations.
    """
    warmup, decay = cfg.param_scheduler
    old = cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = max_iters
    warmup.end = decay.begin = max(1, warmup.end * max_iters // old)
    decay.end = max(decay.begin + 1, max_iters)
    cfg.default_hooks.checkpoint.interval = max_iters


def check_against_config(state_dict: Dict[str, torch.Tensor],
                         config: str) -> None:
    """Load ``state_dict`` into the backbone of the mmseg ``config`` as
    ``MAE.init_weights`` does (position grid resized first); refuse it
    when an encoder tensor is missing, unknown or of another shape.

    Args:
        state_dict (dict[str, torch.Tensor]): Converted tensors.
        config (str): An mmseg config file with ``model.backbone``.

    Raises:
        CheckpointConversionError: One line naming the config and keys.
    """
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope

    backbone_cfg = Config.fromfile(config).model.backbone.copy()
    backbone_cfg.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope('mmseg'):
        backbone = MODELS.build(backbone_cfg)
    resize = getattr(backbone, 'resize_abs_pos_embed', None)
    tensors = resize(dict(state_dict)) if resize else dict(state_dict)
    own = backbone.state_dict()
    wrong = [
        k for k, v in tensors.items() if k in own and v.shape != own[k].shape
    ]
    if wrong:
        first = wrong[0]
        raise CheckpointConversionError(
            f'the converted tensors do not fit the backbone of {config}: '
            f'other shapes ({len(wrong)}): {list_keys(wrong)} (e.g. {first} '
            f'{tuple(tensors[first].shape)} vs {tuple(own[first].shape)}); '
            'nothing was written')
    result = backbone.load_state_dict(tensors, strict=False)
    missing = [k for k in result.missing_keys if not is_transfer_only(k)]
    report = key_report(missing, result.unexpected_keys)
    if report:
        raise CheckpointConversionError(
            f'the converted tensors do not fit the backbone of {config}: '
            f'{report}; nothing was written')


__all__ = [
    'MAE_TRANSFER_ONLY', 'METRIC_KEYS', 'is_transfer_only',
    'convert_sim_to_mmseg', 'convert_release_to_mmseg', 'spread_out_indices',
    'backbone_settings', 'adapt_data', 'adapt_backbone', 'adapt_schedule',
    'check_against_config'
]
