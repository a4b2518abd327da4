# Copyright (c) mmsim contributors. All rights reserved.
"""Tiny SIM configs shared by the model tests."""
import copy

import torch

from tests._host import packed_sample

TINY_SIM = dict(
    type='SIM',
    base_momentum=0.99,
    backbone=dict(
        type='SIMViT',
        arch=dict(
            embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
        img_size=32,
        patch_size=8),
    neck=dict(
        type='SIMNeck',
        in_channels=32,
        embed_dims=16,
        grid_size=4,
        num_projector_layers=1,
        num_predictor_layers=2,
        num_heads=4),
    head=dict(type='UniGradHead'))

#: The hosts' data preprocessor (same name and arguments) as the SIM
#: configs set it (ImageNet
#: mean / std, BGR loaded images to RGB).
SIM_PREPROCESSOR = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True)


def tiny_sim_cfg(**overrides):
    cfg = copy.deepcopy(TINY_SIM)
    for key, value in copy.deepcopy(overrides).items():
        if isinstance(value, dict) and key in cfg:
            cfg[key].update(value)
        else:
            cfg[key] = value
    return cfg


def random_batch(batch=3, img_size=32, grid=4, num_masked=10, seed=0):
    gen = torch.Generator().manual_seed(seed)
    views = [
        torch.randn(batch, 3, img_size, img_size, generator=gen)
        for _ in range(2)
    ]
    samples = []
    for _ in range(batch):
        mask = torch.zeros(grid * grid, dtype=torch.bool)
        mask[torch.randperm(grid * grid, generator=gen)[:num_masked]] = True
        rel_pos = torch.rand(6, generator=gen)
        rel_pos[2:4] += 0.5
        rel_pos[4] = float(rel_pos[4] > 0.5)
        samples.append(packed_sample(mask.view(grid, grid), rel_pos))
    return views, samples
