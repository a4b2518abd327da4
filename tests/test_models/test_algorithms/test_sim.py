# Copyright (c) mmsim contributors. All rights reserved.
import math

import pytest
import torch
from mmengine.logging import MessageHub

from mmsim.layers import count_visible, visible_indices
from mmsim.models.algorithms import cosine_momentum
from tests._host import MODELS, preprocess
from tests._model_cfgs import SIM_PREPROCESSOR, random_batch, tiny_sim_cfg


def build(**overrides):
    model = MODELS.build(tiny_sim_cfg(**overrides))
    model.init_weights()
    return model


@pytest.fixture(autouse=True)
def _fresh_message_hub():
    hub = MessageHub.get_instance('mmsim-test-sim')
    hub.runtime_info.clear()
    yield hub


def online_target_pairs(model):
    online = dict(model.backbone.named_parameters(prefix='backbone'))
    online.update(model.neck.projector.named_parameters(prefix='projector'))
    target = dict(model.target.module.named_parameters())
    assert online.keys() == target.keys()
    return [(name, online[name], target[name]) for name in online]


def test_loss_and_tensor_modes():
    """As the runner calls it, through the data preprocessor: the loss is
    the head's UniGrad of the online prediction (backbone on view 1's
    visible patches, then neck) against the target (target backbone and
    projector on all of view 2); ``mode='tensor'`` returns the online
    backbone's tokens of all of view 1."""
    cfg = tiny_sim_cfg(data_preprocessor=SIM_PREPROCESSOR)
    model = MODELS.build(cfg)
    model.init_weights()
    views, samples = random_batch()
    # uint8 BGR views, as PackSelfSupInputs and default_collate give them
    raw = [((v.clamp(-2, 2) + 2) * 63).round().to(torch.uint8) for v in views]
    inputs, samples = preprocess(model, dict(inputs=raw, data_samples=samples))
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    for raw_view, view in zip(raw, inputs):
        torch.testing.assert_close(
            view, (raw_view[:, [2, 1, 0]].float() - mean) / std)

    loss = model(inputs, samples, mode='loss')['loss']
    assert loss.dim() == 0 and loss.dtype == torch.float32
    mask, rel_pos = model.sample_geometry(samples, torch.device('cpu'))
    with torch.no_grad():
        visible = visible_indices(mask, count_visible(mask, 16))
        pred = model.neck(model.backbone(inputs[0], mask)[0], visible, rel_pos)
        target = model.target.module['projector'](
            model.target.module['backbone'](inputs[1])[0])[:, 1:]
    assert pred.shape == target.shape == (3, 16, 16)
    torch.testing.assert_close(loss, model.head.loss(pred, target))

    feats = model(inputs, samples, mode='tensor')
    assert feats[0].shape == (3, 17, 32)
    torch.testing.assert_close(feats[0], model.backbone(inputs[0])[0])
    assert not torch.allclose(feats[0], model.backbone(inputs[1])[0])


def test_predict_dense_is_the_loss_without_an_update():
    """(prediction, target) as the loss compares them, from the model's
    own pieces, with no target update and no graph."""
    model = build()
    views, samples = random_batch()
    pred, target = model.predict_dense(views, samples)
    assert pred.shape == target.shape == (3, 16, 16)
    assert not pred.requires_grad and int(model.target.steps) == 0
    loss = model(views, samples, mode='loss')['loss']  # 1st update: a copy
    assert int(model.target.steps) == 1
    torch.testing.assert_close(loss, model.head.loss(pred, target))


def test_gradients_reach_online_branch_only():
    model = build()
    views, samples = random_batch()
    model(views, samples, mode='loss')['loss'].backward()
    for name, param in model.named_parameters():
        if name.startswith('target.'):
            assert not param.requires_grad and param.grad is None, name
        elif name.startswith('backbone.patch_embed'):
            assert not param.requires_grad, name  # frozen at init
        else:
            assert param.grad is not None, name
            assert param.grad.abs().sum() > 0, name


def test_target_starts_as_copy_and_follows_ema():
    model = build()
    for name, online, target in online_target_pairs(model):
        assert torch.equal(online, target), name
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.5)
    views, samples = random_batch()
    model(views, samples, mode='loss')['loss'].backward()  # 1st: copy
    optimizer.step()
    before = {n: t.clone() for n, _, t in online_target_pairs(model)}
    model(views, samples, mode='loss')  # 2nd update, m = m_0 (no runner)
    m = 0.99
    moved = 0
    for name, online, target in online_target_pairs(model):
        expected = m * before[name] + (1 - m) * online.detach()
        torch.testing.assert_close(target, expected, msg=name)
        moved += not torch.equal(target, before[name])
    assert moved > 0
    assert int(model.target.steps) == 2


def test_target_keeps_its_own_batchnorm_statistics():
    model = build()
    views, samples = random_batch()
    model(views, samples, mode='loss')
    online_bn = model.neck.projector.blocks[0].bn1
    target_bn = model.target.module['projector'].blocks[0].bn1
    assert int(target_bn.num_batches_tracked) == 1
    assert not torch.equal(online_bn.running_mean, target_bn.running_mean)


def test_cosine_momentum_schedule_values(_fresh_message_hub):
    assert cosine_momentum(0.995, 0, 100) == pytest.approx(0.995)
    assert cosine_momentum(0.995, 50, 100) == pytest.approx(0.9975)
    assert cosine_momentum(0.995, 100, 100) == pytest.approx(1.0)
    t, total = 37, 120
    assert cosine_momentum(
        0.996, t,
        total) == pytest.approx(1 - 0.004 *
                                (math.cos(math.pi * t / total) + 1) / 2)
    assert cosine_momentum(0.995, 5, None) == 0.995
    model = build()
    _fresh_message_hub.update_info('iter', 30)
    _fresh_message_hub.update_info('max_iters', 60)
    assert model.momentum == pytest.approx(1 - 0.01 * 0.5)


def test_target_updates_once_per_accumulation_window(_fresh_message_hub):
    model = build(target_update_interval=2)
    views, samples = random_batch()
    _fresh_message_hub.update_info('max_iters', 10)
    steps = []
    for it in range(5):
        _fresh_message_hub.update_info('iter', it)
        model(views, samples, mode='loss')
        steps.append(int(model.target.steps))
    assert steps == [1, 1, 2, 2, 3]


def test_non_finite_loss_stops_with_message():
    model = build()
    views, samples = random_batch()
    views[0][0, 0, 0, 0] = float('nan')
    with pytest.raises(FloatingPointError, match='stopping'):
        model(views, samples, mode='loss')


@pytest.mark.parametrize('overrides,match', [
    (dict(neck=dict(in_channels=48)), 'in_channels=48'),
    (dict(neck=dict(grid_size=5)), 'grid_size=5'),
    (dict(base_momentum=1.5), 'base_momentum'),
    (dict(target_update_interval=0), 'target_update_interval'),
])
def test_bad_configuration(overrides, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(tiny_sim_cfg(**overrides))


def test_update_count_follows_a_loaded_state_dict():
    """The target's host-side update count is re-read after loading, so a
    resumed target keeps averaging instead of copying the online weights."""
    trained = build()
    views, samples = random_batch()
    for _ in range(2):
        trained(views, samples, mode='loss')
    resumed = build()
    resumed.load_state_dict(trained.state_dict())
    assert resumed.target.num_updates == 2
    with torch.no_grad():
        for param in resumed.backbone.parameters():
            param.add_(1.)
    before = {n: t.clone() for n, _, t in online_target_pairs(resumed)}
    resumed.target.update_parameters(resumed._online_target_modules(), 0.99)
    assert resumed.target.num_updates == 3
    for name, online, target in online_target_pairs(resumed):
        torch.testing.assert_close(
            target, 0.99 * before[name] + 0.01 * online.detach(), msg=name)
