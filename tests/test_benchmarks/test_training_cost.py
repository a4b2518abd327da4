# Copyright (c) mmsim contributors. All rights reserved.
"""Smoke tests of the training-cost benchmark at tiny sizes."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from benchmarks.training_cost import report
from benchmarks.training_cost.images import generate_jpegs
from benchmarks.training_cost.loss_forms import (dense_infonce, measure_loss,
                                                 unigrad_loss_mxm)
from benchmarks.training_cost.models import method_config
from benchmarks.training_cost.pipeline_speed import pipeline_throughput
from benchmarks.training_cost.run import spawn
from benchmarks.training_cost.step_cost import measure_step_cost
from mmsim.models.losses import unigrad_loss


@pytest.fixture(scope='module')
def jpegs(tmp_path_factory):
    return generate_jpegs(str(tmp_path_factory.mktemp('jpegs')), 3)


def test_generate_jpegs_sizes_and_determinism(tmp_path):
    paths = generate_jpegs(str(tmp_path / 'a'), 2, seed=3)
    again = generate_jpegs(str(tmp_path / 'b'), 2, seed=3)
    for path, twin in zip(paths, again):
        with Image.open(path) as image:
            width, height = image.size
            assert image.mode == 'RGB'
        assert 450 <= width <= 550 and 337 <= height <= 413
        with open(path, 'rb') as f, open(twin, 'rb') as g:
            assert f.read() == g.read()


def test_unigrad_mxm_equals_rowwise_with_gradients():
    pred = torch.randn(40, 16, dtype=torch.float64, requires_grad=True)
    target = F.layer_norm(torch.randn(40, 16, dtype=torch.float64), (16, ))
    rowwise = unigrad_loss(pred, target)
    grad_rowwise, = torch.autograd.grad(rowwise, pred)
    mxm = unigrad_loss_mxm(pred, target)
    grad_mxm, = torch.autograd.grad(mxm, pred)
    # independent formula: sum_ij (p_i . z_j)^2 / M^2 for the negative term
    neg = ((pred @ target.t())**2).sum() / 40**2
    pos = ((pred - target)**2).sum(1).mean()
    expected = (pos + 0.02 * neg) / 16
    assert torch.allclose(mxm, expected.double(), rtol=1e-10)
    assert torch.allclose(rowwise.double(), expected, rtol=1e-5)
    assert torch.allclose(
        grad_mxm, grad_rowwise.double(), rtol=1e-4, atol=1e-8)


def test_dense_infonce_formula():
    pred, target = torch.randn(6, 8), torch.randn(6, 8)
    logits = torch.empty(6, 6)
    for i in range(6):
        for j in range(6):
            logits[i, j] = F.cosine_similarity(pred[i], target[j], dim=0)
    logits = logits / 0.2
    expected = -(logits.diag() - logits.logsumexp(dim=1)).mean()
    assert math.isclose(
        float(dense_infonce(pred, target)), float(expected), rel_tol=1e-5)


def test_measure_loss_fields():
    res = measure_loss('rowwise', rows=196, dim=32)
    assert res['time_s'] > 0 and res['extra_mib'] >= 0
    generator = torch.Generator().manual_seed(0)
    pred = torch.randn(196, 32, generator=generator)
    target = F.layer_norm(torch.randn(196, 32, generator=generator), (32, ))
    assert math.isclose(
        res['loss'], float(unigrad_loss(pred, target)), rel_tol=1e-6)
    with pytest.raises(KeyError, match='unknown loss form'):
        measure_loss('cosine', rows=4, dim=4)


@pytest.mark.parametrize('method', ['sim_release', 'mae', 'mocov3'])
def test_vit_s_is_deit_s(method):
    cfg = method_config(method, 'vit-s')
    arch = cfg.model.backbone.arch
    assert (arch['embed_dims'], arch['num_layers'], arch['num_heads']) == \
        (384, 12, 6)
    neck = cfg.model.neck
    width = neck.get('in_channels', neck.get('embed_dim'))
    assert width == 384
    assert method_config(method, 'vit-b').model.backbone.arch in ('b', 'base')


def test_step_cost_and_ablations_keep_numerics(jpegs):

    def sim_steps(**kwargs):
        return measure_step_cost(
            'sim_release',
            'tiny',
            jpegs,
            batch_size=2,
            steps=2,
            warmup=1,
            **kwargs)

    base = sim_steps(time_ema=True, profile_rows=3)
    assert len(base['step_s']) == 2 and all(t > 0 for t in base['step_s'])
    assert base['peak_mib'] > 0 and len(base['profile']) == 3
    assert base['ema']['foreach_ms'] > 0 and base['ema']['loop_ms'] > 0
    assert all(math.isfinite(loss) for loss in base['losses'])
    # reverted forms compute the same training trajectory
    for variant in ('ema_loop', 'gather_loop', 'bn_transposed',
                    'pos_embed_rebuilt', 'naive_attention', 'with_cp'):
        res = sim_steps(variant=variant)
        assert res['losses'] == pytest.approx(base['losses'], rel=1e-4), \
            variant
    with pytest.raises(ValueError, match='SIM only'):
        measure_step_cost('mae', 'tiny', jpegs, variant='ema_loop')


@pytest.mark.parametrize('method', ['mae', 'mocov3', 'sim_paper'])
def test_step_cost_other_methods(jpegs, method):
    res = measure_step_cost(method, 'tiny', jpegs, batch_size=2, steps=1)
    assert len(res['step_s']) == 1 and math.isfinite(res['losses'][-1])


def test_pipeline_throughput(jpegs):
    res = pipeline_throughput(jpegs, rounds=1)
    assert set(res) == {'sim', 'mocov3'}
    for entry in res.values():
        assert entry['images'] == 3 and entry['images_per_s'] > 0


def test_spawn_reports_worker_errors():
    res = spawn(dict(kind='bogus'), timeout=120)
    assert 'unknown task kind' in res['error']


def test_report_tables_and_plot(tmp_path):

    def run(method, steps, peak):
        return dict(
            step_s=steps,
            peak_mib=peak,
            base_mib=100.,
            batch_size=8,
            num_params=1e6,
            method=method)

    pooled = {
        'sim_release':
        report.pool_runs([run('s', [4., 6.], 300.),
                          run('s', [5.], 350.)]),
        'mae':
        report.pool_runs([run('m', [2.5, 2.5, 2.5], 250.)]),
    }
    assert pooled['sim_release']['median_s'] == 5.
    assert pooled['sim_release']['peak_mib'] == 350.
    table = report.step_table(pooled, {})
    assert '| 2.00x | 1.40x |' in table
    losses = [
        dict(form='rowwise', rows=196, extra_mib=10., time_s=.1),
        dict(form='rowwise', rows=392, extra_mib=20., time_s=.1),
        dict(form='mxm', rows=196, extra_mib=12., time_s=.1),
        dict(
            form='mxm',
            rows=392,
            skipped=True,
            estimate_mib=48.,
            available_mib=10.),
    ]
    assert 'skipped' in report.loss_table(losses)
    path = str(tmp_path / 'mem.png')
    report.plot_loss_memory(losses, path)
    assert osp.getsize(path) > 1000


def test_gather_loop_variant_gathers_sample_by_sample():
    """The ``gather_loop`` form really runs the per-sample boolean gather
    on what a step gives the encoder (the visible positions), with the
    same tokens as the one gather."""
    from mmselfsup.registry import MODELS

    from benchmarks.training_cost.ablations import (_gather_visible_loop,
                                                    apply_to_model)
    from mmsim.layers import count_visible, visible_indices
    from tests._model_cfgs import random_batch, tiny_sim_cfg

    model = MODELS.build(tiny_sim_cfg())
    model.init_weights()
    views, samples = random_batch()
    mask = torch.stack([s.mask.value for s in samples]).bool()
    visible = visible_indices(mask, count_visible(mask, 16))
    expected = model.backbone(views[0], visible=visible)[0]
    apply_to_model(model, 'gather_loop')
    assert model.backbone.gather_visible is _gather_visible_loop
    masks = []
    model.backbone.gather_visible = \
        lambda tokens, mask: masks.append(mask) or _gather_visible_loop(
            tokens, mask)
    torch.testing.assert_close(
        model.backbone(views[0], visible=visible)[0], expected)
    assert len(masks) == 1 and torch.equal(masks[0], mask.flatten(1))


def test_stacks_table_ratios_to_the_frozen_stack():
    """The side-by-side table divides each median by the same method's
    torch 2.0.1 median; a failed variant shows its error."""
    from benchmarks.training_cost import stacks
    args = stacks.parse_args(['--compile', '--rounds', '1'])
    rows = stacks.variants(args)
    assert [(r['stack'], r['method'], r['compile_step'])
            for r in rows] == [('frozen', 'sim_release', False),
                               ('current', 'sim_release', False),
                               ('frozen', 'mae', False),
                               ('current', 'mae', False),
                               ('current', 'sim_release', True)]
    times = [[2., 4., 3.], [1.5], [1.], [0.5], []]
    for row, step_s in zip(rows, times):
        row.update(step_s=step_s, losses=[[1.25]])
    rows[-1]['error'] = 'exit 1: boom'
    text = stacks.markdown(args, rows, dict(cpu='CPU', cores='2'), 60.)
    sim = '| SIM (release form) |'
    assert f'{sim} torch 2.11 | 1.500 | 1.500 | 0.50 |' in text
    assert '| MAE | torch 2.11 | 0.500 | 0.500 | 0.50 |' in text
    assert f'{sim} torch 2.0.1 | 3.000 | 2.000 | 1.00 |' in text
    assert 'torch 2.11 + torch.compile | failed: exit 1: boom' in text
