# Copyright (c) mmsim contributors. All rights reserved.
"""Tiny SIM configs shared by the model tests."""
import copy

import torch
from mmengine.structures import InstanceData
from mmselfsup.structures import SelfSupDataSample

TINY_SIM = dict(
    type='SIM',
    base_momentum=0.99,
    backbone=dict(
        type='SIMViT',
        arch=dict(
            embed_dims=32,
            num_layers=2,
            num_heads=4,
            feedforward_channels=64),
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


def tiny_sim_cfg(**overrides):
    cfg = copy.deepcopy(TINY_SIM)
    for key, value in overrides.items():
        cfg[key].update(value) if isinstance(value, dict) else \
            cfg.__setitem__(key, value)
    return cfg


def random_batch(batch=3, img_size=32, grid=4, num_masked=10, seed=0):
    gen = torch.Generator().manual_seed(seed)
    views = [torch.randn(batch, 3, img_size, img_size, generator=gen)
             for _ in range(2)]
    samples = []
    for _ in range(batch):
        sample = SelfSupDataSample()
        mask = torch.zeros(grid * grid, dtype=torch.bool)
        mask[torch.randperm(grid * grid, generator=gen)[:num_masked]] = True
        sample.mask = InstanceData(value=mask.view(grid, grid))
        rel_pos = torch.rand(6, generator=gen)
        rel_pos[2:4] += 0.5
        rel_pos[4] = float(rel_pos[4] > 0.5)
        sample.pseudo_label = InstanceData(rel_pos=rel_pos)
        samples.append(sample)
    return views, samples
