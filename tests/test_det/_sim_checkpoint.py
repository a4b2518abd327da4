# Copyright (c) mmsim contributors. All rights reserved.
"""Build a small mmsim ``SIM`` model and save it as mmengine would."""
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope


def tiny_sim_model_cfg(embed_dims: int = 64,
                       num_layers: int = 2,
                       num_heads: int = 2,
                       img_size: int = 224,
                       neck_dims: int = 32,
                       norm: str = 'SIMTokenBN') -> dict:
    """A small ``SIM`` model config (mmselfsup registry)."""
    norm_cfg = dict(type=norm) if norm == 'SIMTokenBN' else dict(
        type='LN', eps=1e-6)
    return dict(
        type='SIM',
        backbone=dict(
            type='SIMViT',
            arch=dict(
                embed_dims=embed_dims,
                num_layers=num_layers,
                num_heads=num_heads,
                feedforward_channels=embed_dims * 4),
            img_size=img_size),
        neck=dict(
            type='SIMNeck',
            in_channels=embed_dims,
            embed_dims=neck_dims,
            grid_size=img_size // 16,
            num_projector_layers=2,
            num_predictor_layers=2,
            num_heads=2,
            norm_cfg=norm_cfg),
        head=dict(type='UniGradHead'))


def build_sim(model_cfg: dict) -> torch.nn.Module:
    """Build and initialise ``SIM`` from its config."""
    from mmselfsup.registry import MODELS

    import mmsim  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmselfsup'):
        model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def save_sim_checkpoint(path: str, **kwargs) -> torch.nn.Module:
    """Save a freshly initialised small SIM as an mmengine checkpoint
    (``meta['cfg']`` holds its config text, as the runner writes it)."""
    model_cfg = tiny_sim_model_cfg(**kwargs)
    model = build_sim(model_cfg)
    # Make the target differ from the online branch, as after training.
    with torch.no_grad():
        for param in model.target.parameters():
            param.add_(0.01)
    meta = dict(cfg=Config(dict(model=model_cfg)).pretty_text)
    torch.save(dict(meta=meta, state_dict=model.state_dict()), path)
    return model
