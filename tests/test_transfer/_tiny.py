# Copyright (c) mmsim contributors. All rights reserved.
"""Sizes of the converter tests' tiny encoders and fake releases."""

WIDTH, DEPTH, HEADS = 64, 2, 2


def release_kwargs(**kwargs) -> dict:
    """``fake_release_state`` arguments of a tiny release (``kwargs``
    override)."""
    cfg = dict(
        depth=DEPTH, width=WIDTH, proj_depth=2, pred_depth=2, dec_width=32)
    cfg.update(kwargs)
    return cfg
