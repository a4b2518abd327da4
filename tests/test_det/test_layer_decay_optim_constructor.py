# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch.nn as nn
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS

from mmsim.det import (SIMSimpleFPN, SIMViTDet,
                       SIMViTLayerDecayOptimizerConstructor)
from mmsim.det.optimizers import vit_layer_id


class TinyDetector(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = SIMViTDet(
            arch=dict(
                embed_dims=32,
                num_layers=3,
                num_heads=2,
                feedforward_channels=64),
            img_size=64,
            window_size=2)
        self.neck = SIMSimpleFPN(in_channels=32, out_channels=8)


def build(decay_rate=0.7, weight_decay=0.1, model=None, **paramwise):
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='SIMViTLayerDecayOptimizerConstructor',
            optim_wrapper_cfg=dict(
                type='OptimWrapper',
                optimizer=dict(
                    type='AdamW', lr=1e-3, weight_decay=weight_decay)),
            paramwise_cfg=dict(decay_rate=decay_rate, **paramwise)))
    model = model or TinyDetector()
    return model, constructor(model).optimizer


def _settings(model, optimizer):
    """name -> (lr, weight decay) of every parameter."""
    settings = {}
    for group in optimizer.param_groups:
        for param in group['params']:
            settings[id(param)] = (group['lr'], group['weight_decay'])
    names = dict(model.named_parameters())
    assert len(settings) == len(names)  # every parameter, once
    return {name: settings[id(p)] for name, p in names.items()}


def test_registered():
    assert OPTIM_WRAPPER_CONSTRUCTORS.get(
        'SIMViTLayerDecayOptimizerConstructor'
    ) is SIMViTLayerDecayOptimizerConstructor


def test_layer_ids():
    assert vit_layer_id('backbone.pos_embed', 12) == 0
    assert vit_layer_id('backbone.patch_embed.projection.weight', 12) == 0
    assert vit_layer_id('backbone.layers.0.ln1.weight', 12) == 1
    assert vit_layer_id('backbone.layers.11.attn.rel_pos_h', 12) == 12
    assert vit_layer_id('neck.lateral_convs.0.conv.weight', 12) == 13
    assert vit_layer_id('roi_head.bbox_head.fc_cls.weight', 12) == 13


@pytest.mark.parametrize('rule', ['vitdet', 'all_1d'])
def test_lr_and_weight_decay_per_parameter(mmdet_scope, rule):
    model, optimizer = build(weight_decay_exempt=rule)
    settings = _settings(model, optimizer)
    # ViTDet decays biases, relative position tables and neck/head norms
    wd = 0.1 if rule == 'vitdet' else 0.

    def lr_wd(name):
        return settings[name]

    base = 1e-3
    assert lr_wd('backbone.pos_embed') == pytest.approx((base * 0.7**4, 0.))
    assert lr_wd('backbone.patch_embed.projection.weight') == pytest.approx(
        (base * 0.7**4, 0.1))
    assert lr_wd('backbone.layers.0.attn.qkv.weight') == pytest.approx(
        (base * 0.7**3, 0.1))
    assert lr_wd('backbone.layers.2.attn.qkv.bias') == pytest.approx(
        (base * 0.7, wd))
    assert lr_wd('backbone.layers.2.ln1.weight') == pytest.approx(
        (base * 0.7, 0.))
    assert lr_wd('backbone.layers.1.attn.rel_pos_h') == pytest.approx(
        (base * 0.7**2, wd))
    assert lr_wd('neck.lateral_convs.0.conv.weight') == pytest.approx(
        (base, 0.1))
    assert lr_wd('neck.lateral_convs.0.ln.weight') == pytest.approx((base, wd))


def test_vit_b_exempts_what_vitdet_exempts(mmdet_scope):
    """At ViT-B, detectron2's and mmdet's ViTDet exempt 188,160 elements
    (24 LayerNorms x 2 x 768 + the 197 x 768 position embedding)."""
    model = TinyDetector()
    model.backbone = SIMViTDet(arch='b', img_size=1024)
    model.neck = SIMSimpleFPN(in_channels=768, out_channels=256)
    exempt = {}
    for rule in ('vitdet', 'all_1d'):
        settings = _settings(model,
                             build(model=model, weight_decay_exempt=rule)[1])
        exempt[rule] = sum(p.numel() for n, p in model.named_parameters()
                           if settings[n][1] == 0.)
    assert exempt['vitdet'] == 24 * 2 * 768 + 197 * 768 == 188160
    assert exempt['all_1d'] > exempt['vitdet']


def test_bad_exempt_rule(mmdet_scope):
    with pytest.raises(ValueError, match='weight_decay_exempt'):
        build(weight_decay_exempt='norms')


def test_frozen_parameters_are_kept_out_of_decay_groups():
    model = TinyDetector()
    model.backbone.patch_embed.requires_grad_(False)
    constructor = SIMViTLayerDecayOptimizerConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3)))
    optimizer = constructor(model).optimizer
    frozen = model.backbone.patch_embed.projection.weight
    group = next(
        g for g in optimizer.param_groups
        if any(p is frozen for p in g['params']))
    assert len(group['params']) == 1 and 'lr_scale' not in group


def test_bad_decay_rate(mmdet_scope):
    with pytest.raises(ValueError, match='decay_rate'):
        build(decay_rate=1.5)
