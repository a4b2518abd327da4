# Copyright (c) mmsim contributors. All rights reserved.
"""What SIM's predictor outputs and what its momentum target sees."""
from typing import List, Tuple

import torch
from mmselfsup.structures import SelfSupDataSample


@torch.no_grad()
def sim_prediction_and_target(
        model: torch.nn.Module,
        inputs: List[torch.Tensor],
        data_samples: List[SelfSupDataSample],
        normalise_as_loss: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """The prediction for, and the target of, every view-2 patch.

    Calls the pieces ``SIM.loss`` is made of, without updating anything:
    :meth:`SIM.sample_geometry`, :meth:`SIM.online_prediction` (the online
    backbone on the visible patches of view 1, then the neck's prediction
    for every view-2 patch, in the raster order of view 2's grid),
    :meth:`SIM.target_features` (the momentum target on all of view 2, at
    those same positions) and, with ``normalise_as_loss``,
    :meth:`UniGradHead.normalise`. Norm layers run in the model's current
    mode (``model.eval()`` uses the running statistics).

    Args:
        model (torch.nn.Module): A ``SIM`` model.
        inputs (list[torch.Tensor]): Pre-processed view 1 and view 2, each
            of shape (B, 3, S, S).
        data_samples (list[SelfSupDataSample]): ``mask.value`` (G, G) and
            ``pseudo_label.rel_pos`` (6, ) each.
        normalise_as_loss (bool): What the loss compares: the head's
            LayerNorm (no affine) on the targets, and on the predictions if
            the head does so. Defaults to True.

    Returns:
        Tuple[torch.Tensor, torch.Tensor]: Predictions and targets, each
        float32 of shape (B, G * G, D), row ``r * G + c`` for view-2 patch
        ``(r, c)``.
    """
    for name in ('sample_geometry', 'online_prediction', 'target_features'):
        if not hasattr(model, name):
            raise TypeError(f'{type(model).__name__} has no `{name}`: '
                            'sim_prediction_and_target needs a SIM model')
    view_1, view_2 = inputs[0], inputs[1]
    mask, rel_pos = model.sample_geometry(data_samples, view_1.device)
    pred = model.online_prediction(view_1, mask, rel_pos)
    target = model.target_features(view_2)
    if normalise_as_loss:
        return model.head.normalise(pred, target)
    return pred.float(), target.float()
