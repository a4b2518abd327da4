# Copyright (c) mmsim contributors. All rights reserved.
import torch
from mmengine.registry import init_default_scope
from mmselfsup.registry import MODELS

from mmsim.visualization import sim_prediction_and_target
from .._model_cfgs import random_batch, tiny_sim_cfg


def test_prediction_and_target_are_what_the_loss_compares():
    init_default_scope('mmselfsup')
    model = MODELS.build(tiny_sim_cfg())
    model.init_weights()
    model.eval()  # no target update, running norm statistics
    views, samples = random_batch(batch=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pred, target = sim_prediction_and_target(
        model, views, samples, normalise_as_loss=False)
    assert pred.shape == target.shape == (3, 16, 16)  # (B, G * G, D)
    loss = model.loss(views, samples)['loss']
    torch.testing.assert_close(model.head.loss(pred, target), loss)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    # the targets are the momentum branch on view 2 alone
    tokens = model.target.module['backbone'](views[1])[0]
    torch.testing.assert_close(target,
                               model.target.module['projector'](tokens)[:, 1:])
    _, normed = sim_prediction_and_target(model, views, samples)
    torch.testing.assert_close(
        normed.mean(-1), torch.zeros(3, 16), atol=1e-5, rtol=0)


def test_pictures_follow_the_models_own_forward_pieces():
    """A SIM variant that changes a piece of the forward (here its target
    and the head's normalisation) is pictured as it trains: the tool calls
    the model's pieces, it has no copy of its own."""
    from mmsim.models import SIM, UniGradHead

    class ShiftedTargetSIM(SIM):

        def target_features(self, view_2):
            return super().target_features(view_2) + 3.

    class ScaledHead(UniGradHead):

        def normalise(self, pred, target):
            pred, target = super().normalise(pred, target)
            return 2 * pred, target

    init_default_scope('mmselfsup')
    cfg = tiny_sim_cfg()
    cfg.pop('type')
    model = ShiftedTargetSIM(**cfg)
    model.head = ScaledHead()
    model.init_weights()
    model.eval()
    views, samples = random_batch(batch=2)
    plain_pred, shifted = sim_prediction_and_target(
        model, views, samples, normalise_as_loss=False)
    tokens = model.target.module['backbone'](views[1])[0]
    torch.testing.assert_close(
        shifted, model.target.module['projector'](tokens)[:, 1:] + 3.)
    pred, _ = sim_prediction_and_target(model, views, samples)
    torch.testing.assert_close(pred, 2 * plain_pred)
    assert not hasattr(model.neck, 'project')  # the target has its own copy
