# Copyright (c) mmsim contributors. All rights reserved.
"""The "before" form of each speed change of SIM, for the ablation table.

Each variant reverts one change, either in the config (before the model is
built) or on the built model (instance-level patches; mmsim itself is not
modified). Every variant computes the same numbers as mmsim's code.
"""
import functools
import types
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModel

from mmsim.layers import grid_sincos_pos_embed
from mmsim.layers.token_batch_norm import SIMTokenBN

#: Variant name -> (what is reverted, the "before" form measured).
VARIANTS: Dict[str, Tuple[str, str]] = {
    'baseline': ('nothing (mmsim as is)', ''),
    'naive_attention':
    ('fused scaled-dot-product attention',
     "mmcls's MultiheadAttention (explicit softmax(QK^T) V)"),
    'ema_loop': ('foreach momentum update',
                 'one mul_/add_ pair per parameter (Python loop)'),
    'pos_embed_rebuilt':
    ('cached position embeddings',
     'E1 of the neck and the encoder table rebuilt every forward'),
    'gather_loop': ('one gather of the visible tokens',
                    'per-sample boolean indexing + stack'),
    'bn_transposed': ('token-major fp32 BatchNorm',
                      'BatchNorm over a (B, C, N) transpose (BN1d layout)'),
    'with_cp':
    ('no activation checkpointing', 'with_cp=True on the encoder blocks'),
    'accum2_window': ('(reference) accumulate 2 micro-batches, target '
                      'updated once per window', ''),
    'accum2_every': ('target updated once per accumulation window',
                     'target updated at every micro-batch (2 per window)'),
}


def apply_to_config(cfg: Config, variant: str) -> Config:
    """Config-level part of ``variant`` (in place; returns ``cfg``)."""
    if variant not in VARIANTS:
        raise KeyError(f'unknown ablation variant {variant!r}; expected one '
                       f'of {list(VARIANTS)}')
    model = cfg.model
    if variant == 'naive_attention':
        model.backbone.fused_attention = False
        model.neck.fused_attention = False
    elif variant == 'with_cp':
        model.backbone.with_cp = True
    elif variant == 'accum2_window':
        cfg.optim_wrapper.accumulative_counts = 2
        model.target_update_interval = 2
    elif variant == 'accum2_every':
        cfg.optim_wrapper.accumulative_counts = 2
        model.target_update_interval = 1
    return cfg


def _loop_update_parameters(self, model: torch.nn.Module,
                            momentum: float) -> None:
    """``MomentumTarget.update_parameters`` as a per-parameter loop."""
    with torch.no_grad():
        if self.steps == 0:
            self.copy_from(model)
        else:
            for avg, src in zip(self.module.parameters(), model.parameters()):
                avg.mul_(momentum).add_(src.detach(), alpha=1. - momentum)
        self.steps += 1
        self._num_updates = None  # the host mirror re-reads `steps`


def _gather_visible_loop(tokens: torch.Tensor,
                         mask: torch.Tensor) -> torch.Tensor:
    """``SIMViT.gather_visible`` one sample at a time (boolean masks).

    Args:
        tokens (torch.Tensor): (B, N, C).
        mask (torch.Tensor): (B, N) or (B, G, G), nonzero = masked.

    Returns:
        torch.Tensor: (B, N - K, C).
    """
    visible = ~mask.reshape(tokens.shape[0], -1).bool()
    return torch.stack([t[v] for t, v in zip(tokens, visible)])


def _mask_instead_of_indices(backbone: torch.nn.Module) -> Callable:
    """``backbone.forward`` that turns the step's visible positions (B, V)
    back into a boolean mask (B, G * G), the encoder's input before the
    indices were computed once per step, so the encoder gathers through
    ``gather_visible`` (the loop above in this variant)."""
    forward = backbone.forward

    def forward_from_mask(x: torch.Tensor,
                          mask: Optional[torch.Tensor] = None,
                          visible: Optional[torch.Tensor] = None):
        if visible is not None:
            mask = visible.new_ones(
                visible.shape[0], backbone.grid_size**2,
                dtype=torch.bool).scatter_(1, visible, False)
        return forward(x, mask=mask)

    return forward_from_mask


def _rebuild_pos_embeds(module: torch.nn.Module, _args) -> None:
    """Forward pre-hook: recompute the sin-cos tables, as before caching."""
    if hasattr(module, 'grid_pos_embed'):
        module.grid_pos_embed = grid_sincos_pos_embed(
            module.grid_size, module.embed_dims).to(module.grid_pos_embed)
    else:
        module.pos_embed = grid_sincos_pos_embed(
            module.grid_size, module.embed_dims,
            cls_token=True)[None].to(module.pos_embed)


def _transposed_bn_forward(self, x: torch.Tensor) -> torch.Tensor:
    """``SIMTokenBN.forward`` (single process) through a (B, C, N) layout.

    Args:
        x (torch.Tensor): (B, N, C).

    Returns:
        torch.Tensor: float32 (B, N, C).
    """
    with torch.autocast(device_type=x.device.type, enabled=False):
        chw = x.float().transpose(1, 2)
        if self.training:
            self.num_batches_tracked.add_(1)
        out = F.batch_norm(chw, self.running_mean, self.running_var,
                           self.weight, self.bias, self.training,
                           self.momentum, self.eps)
    return out.transpose(1, 2)


def apply_to_model(model: torch.nn.Module, variant: str) -> List[Callable]:
    """Model-level part of ``variant`` on a built ``SIM`` (in place).

    Returns:
        list: Hook handles (kept alive by the caller).
    """
    handles = []
    if variant == 'ema_loop':
        model.target.update_parameters = types.MethodType(
            _loop_update_parameters, model.target)
    elif variant == 'gather_loop':
        model.backbone.gather_visible = _gather_visible_loop
        model.backbone.forward = _mask_instead_of_indices(model.backbone)
    elif variant == 'pos_embed_rebuilt':
        handles.append(
            model.neck.register_forward_pre_hook(_rebuild_pos_embeds))
        for backbone in (model.backbone, model.target.module['backbone']):
            handles.append(
                backbone.register_forward_pre_hook(_rebuild_pos_embeds))
    elif variant == 'bn_transposed':
        for module in model.modules():
            if isinstance(module, SIMTokenBN):
                module.forward = types.MethodType(_transposed_bn_forward,
                                                  module)
    elif variant == 'accum2_every':
        # SIM.train_step refuses a target interval that differs from the
        # accumulation window; the "before" form had no such check.
        model.train_step = functools.partial(BaseModel.train_step, model)
    return handles


def time_momentum_update(model: torch.nn.Module,
                         repeats: int = 5) -> Dict[str, float]:
    """Best-of-``repeats`` time (ms) of one target update, foreach vs loop.

    Args:
        model (torch.nn.Module): A built ``SIM`` (its target is modified).
        repeats (int): Timed calls per form.

    Returns:
        dict: ``foreach_ms`` and ``loop_ms``.
    """
    import time
    online = model._online_target_modules()
    target = model.target
    if target.steps == 0:
        target.update_parameters(online, 0.999)
    loop = types.MethodType(_loop_update_parameters, target)
    result = {}
    for name, update in (('foreach_ms', target.update_parameters), ('loop_ms',
                                                                    loop)):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            update(online, 0.999)
            times.append(time.perf_counter() - start)
        result[name] = 1e3 * min(times)
    return result
