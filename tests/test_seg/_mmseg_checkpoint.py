# Copyright (c) mmsim contributors. All rights reserved.
"""Helpers of the segmentation tests: mmseg's ``MAE`` backbone as our
configs set it, the position-grid resize it applies when loading, the
quick start's tiny SIM and a tiny release to convert, and the
``sim_to_mmseg`` command-line tool."""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..test_det._sim_checkpoint import build_sim

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'model_converters', 'sim_to_mmseg.py')
#: The tiny SIM of the quick start: 192 wide, 6 blocks of 3 heads, 96 px.
TINY_SIM = osp.join(REPO, 'configs', 'sim', '_base_', 'sim_vit-tiny-p16.py')
#: ``fake_release_state`` arguments of a tiny release.
RELEASE = dict(depth=2, width=64, proj_depth=2, pred_depth=2, dec_width=32)


def trained_tiny_sim() -> Tuple[nn.Module, Config]:
    """The tiny SIM, its target moved off the online branch (as after
    training), in eval mode, and its config."""
    cfg = Config.fromfile(TINY_SIM)
    model = build_sim(cfg.model)
    with torch.no_grad():
        for param in model.target.parameters():
            param.add_(0.01)
    return model.eval(), cfg


def save_sim(model: nn.Module, path: str) -> None:
    """Save a model's state dict as an mmengine checkpoint."""
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), path)


def mae_cfg(arch: dict,
            img_size: int,
            out_indices: Sequence[int],
            init_cfg: Optional[dict] = None,
            mlp_ratio: Optional[int] = None) -> dict:
    """The config of mmseg's ``MAE`` with our configs' settings (patch 16,
    layer scale 1, LN eps 1e-6) for an mmcls ``arch`` (embed_dims,
    num_layers, num_heads and, unless ``mlp_ratio`` is given,
    feedforward_channels)."""
    return dict(
        type='MAE',
        img_size=img_size,
        patch_size=16,
        embed_dims=arch['embed_dims'],
        num_layers=arch['num_layers'],
        num_heads=arch['num_heads'],
        mlp_ratio=mlp_ratio
        or arch['feedforward_channels'] // arch['embed_dims'],
        out_indices=list(out_indices),
        norm_cfg=dict(type='LN', eps=1e-6),
        init_values=1.0,
        init_cfg=init_cfg)


def mae_backbone(
    arch: dict,
    img_size: int,
    checkpoint: Optional[str] = None,
    out_indices: Sequence[int] = (1, 3, 5)
) -> nn.Module:
    """mmseg's ``MAE`` with our configs' settings (layer scale 1, LN eps
    1e-6), initialised, from ``checkpoint`` through ``init_cfg`` when
    given, in eval mode.

    Args:
        arch (dict): mmcls arch keys (embed_dims, num_layers, num_heads,
            feedforward_channels).
        img_size (int): Input side.
        checkpoint (str, optional): Converted weights.
        out_indices (Sequence[int]): Blocks whose outputs are returned.

    Returns:
        nn.Module: The backbone.
    """
    from mmseg.registry import MODELS
    init_cfg = None if checkpoint is None else dict(
        type='Pretrained', checkpoint=checkpoint)
    with DefaultScope.overwrite_default_scope('mmseg'):
        backbone = MODELS.build(mae_cfg(arch, img_size, out_indices, init_cfg))
    backbone.init_weights()
    backbone.eval()  # BEiT's train() returns None: no chaining
    return backbone


def resized_grid(pos_embed: torch.Tensor, side: int) -> torch.Tensor:
    """Resize a position embedding's grid bicubically, cls row kept (what
    the MAE/BEiT segmentation code does when it loads).

    Args:
        pos_embed (torch.Tensor): (1, 1 + G * G, C).
        side (int): New grid side S.

    Returns:
        torch.Tensor: (1, 1 + S * S, C).
    """
    grid = int((pos_embed.shape[1] - 1)**0.5)
    patches = pos_embed[:, 1:].reshape(1, grid, grid, -1).permute(0, 3, 1, 2)
    patches = F.interpolate(
        patches, size=(side, side), mode='bicubic', align_corners=False)
    return torch.cat([pos_embed[:, :1],
                      patches.flatten(2).transpose(1, 2)],
                     dim=1)


def load_tool() -> ModuleType:
    """``tools/model_converters/sim_to_mmseg.py`` as a module."""
    spec = importlib.util.spec_from_file_location('sim_to_mmseg', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
