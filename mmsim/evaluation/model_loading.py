# Copyright (c) mmsim contributors. All rights reserved.
"""Build a pre-training config's model, from a checkpoint or at its own
initialisation, for the offline evaluations."""
import os.path as osp
from typing import Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import MODELS, init_default_scope
from mmengine.utils import import_modules_from_strings

from ..hosts import host
from ..transfer.checkpoint_io import load_state_dict, save_checkpoint


def build_pretrain_model(config: str,
                         checkpoint: Optional[str] = None,
                         seed: int = 0) -> nn.Module:
    """The config's model in its default scope (the host's, mmselfsup or
    mmpretrain, unless the config says otherwise), in eval mode.

    Args:
        config (str): A pre-training config file.
        checkpoint (str, optional): Weights to load (strictly); None keeps
            the model's own initialisation, drawn after
            ``torch.manual_seed(seed)`` (the encoder before pre-training).
        seed (int): Seed of the initialisation. Defaults to 0.

    Returns:
        nn.Module: The model.
    """
    cfg = Config.fromfile(config)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', host().NAME))
    torch.manual_seed(seed)
    # a quiet current logger: init_weights reports every tensor at INFO
    MMLogger.get_instance('mmsim_build_pretrain_model', log_level='WARNING')
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
        # read without running code the file may carry; strict, as before
        model.load_state_dict(load_state_dict(checkpoint), strict=True)
    return model.eval()


def save_initial_checkpoint(config: str, path: str, seed: int = 0) -> str:
    """Save the config's model at its own initialisation as a checkpoint
    (``state_dict`` and, as the runner does, ``meta['cfg']``), written
    atomically.

    Args:
        config (str): A pre-training config file.
        path (str): Output ``.pth``.
        seed (int): Seed of the initialisation. Defaults to 0.

    Returns:
        str: ``path``.
    """
    model = build_pretrain_model(config, None, seed)
    meta = dict(cfg=Config.fromfile(config).pretty_text, seed=seed)
    save_checkpoint(model.state_dict(), path, meta=meta)  # atomic
    return path
