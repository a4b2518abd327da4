# Copyright (c) mmsim contributors. All rights reserved.
"""What SIM's predictor outputs and what its momentum target sees."""
from typing import List, Tuple

import torch
from mmengine.structures import BaseDataElement


@torch.no_grad()
def sim_prediction_and_target(
        model: torch.nn.Module,
        inputs: List[torch.Tensor],
        data_samples: List[BaseDataElement],
        normalise_as_loss: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """The prediction for, and the target of, every view-2 patch.

    The model's own :meth:`SIM.predict_dense` (the pieces ``SIM.loss`` is
    made of, without the loss or a target update: the online backbone on
    the visible patches of view 1, the neck's prediction for every view-2
    patch, the momentum target on all of view 2) and, with
    ``normalise_as_loss``, :meth:`UniGradHead.normalise`. Norm layers run
    in the model's current mode (``model.eval()`` uses the running
    statistics).

    Args:
        model (torch.nn.Module): A ``SIM`` model.
        inputs (list[torch.Tensor]): Pre-processed view 1 and view 2, each
            of shape (B, 3, S, S).
        data_samples (list[BaseDataElement]): The host's samples: view-1
            mask (G, G) and view-2 ``rel_pos`` (6, ) each.
        normalise_as_loss (bool): What the loss compares: the head's
            LayerNorm (no affine) on the targets, and on the predictions if
            the head does so. Defaults to True.

    Returns:
        Tuple[torch.Tensor, torch.Tensor]: Predictions and targets, each
        float32 of shape (B, G * G, D), row ``r * G + c`` for view-2 patch
        ``(r, c)``.
    """
    if not hasattr(model, 'predict_dense'):
        raise TypeError(f'{type(model).__name__} has no `predict_dense`: '
                        'sim_prediction_and_target needs a SIM model')
    pred, target = model.predict_dense(inputs, data_samples)
    if normalise_as_loss:
        return model.head.normalise(pred, target)
    return pred.float(), target.float()
