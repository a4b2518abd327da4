# Copyright (c) mmsim contributors. All rights reserved.
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from ...hosts import host
from ..losses import unigrad_loss


@host().MODELS.register_module()
class UniGradHead(BaseModule):
    """SIM's loss head: UniGrad between dense predictions and targets.

    ``L = alpha_global * UniGrad(mean_N p, mean_N z)
    + alpha_dense * UniGrad(p [- mean_N p], z [- mean_N z])`` on
    LayerNormed targets, in fp32 even under autocast (the SIM paper's
    loss; the release uses the dense term alone).

    Args:
        alpha_global (float): Weight of the per-image (token-mean) term.
            Defaults to 0 (release: dense only).
        alpha_dense (float): Weight of the per-token term. Defaults to 1.
        neg_weight (float): UniGrad ``lambda``. Defaults to 0.02.
        subtract_mean (bool, optional): Subtract each image's token mean in
            the dense term. None (default) does so exactly when
            ``alpha_global > 0`` (the paper's global + dense form).
        norm_pred (bool): Also LayerNorm the predictions (no affine).
            Defaults to False.
        norm_eps (float): LayerNorm eps. Defaults to 1e-5.
        init_cfg (dict, optional): Unused; no parameters.
    """

    def __init__(self,
                 alpha_global: float = 0.,
                 alpha_dense: float = 1.,
                 neg_weight: float = 0.02,
                 subtract_mean: Optional[bool] = None,
                 norm_pred: bool = False,
                 norm_eps: float = 1e-5,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if alpha_global < 0 or alpha_dense < 0 or \
                alpha_global + alpha_dense == 0:
            raise ValueError('alpha_global and alpha_dense must be >= 0 and '
                             f'not both 0, got {alpha_global} and '
                             f'{alpha_dense}')
        if not neg_weight >= 0:
            raise ValueError(
                'UniGradHead neg_weight is the weight lambda of the '
                'negative (decorrelation) term, >= 0 (0.02 in the paper); a '
                f'negative one rewards collapse, got {neg_weight}')
        self.alpha_global = alpha_global
        self.alpha_dense = alpha_dense
        self.neg_weight = neg_weight
        self.subtract_mean = (
            alpha_global > 0 if subtract_mean is None else subtract_mean)
        self.norm_pred = norm_pred
        self.norm_eps = norm_eps

    def normalise(self, pred: torch.Tensor,
                  target: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """What the loss compares: fp32 predictions and LayerNormed (no
        affine) targets, and LayerNormed predictions with ``norm_pred``.

        Args:
            pred (torch.Tensor): Predictions of shape (B, N, D).
            target (torch.Tensor): Target features of shape (B, N, D).

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Float32 predictions and
            targets, each of shape (B, N, D).
        """
        if pred.dim() != 3 or pred.shape != target.shape:
            raise ValueError('UniGradHead takes pred and target of the same '
                             f'(B, N, D) shape, got {tuple(pred.shape)} and '
                             f'{tuple(target.shape)}')
        width = pred.shape[-1]
        with torch.autocast(device_type=pred.device.type, enabled=False):
            pred, target = pred.float(), target.float()
            target = F.layer_norm(target, (width, ), eps=self.norm_eps)
            if self.norm_pred:
                pred = F.layer_norm(pred, (width, ), eps=self.norm_eps)
        return pred, target

    def loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (torch.Tensor): Predictions of shape (B, N, D).
            target (torch.Tensor): Target features of shape (B, N, D).

        Returns:
            torch.Tensor: Scalar fp32 loss.
        """
        pred, target = self.normalise(pred, target)
        width = pred.shape[-1]
        with torch.autocast(device_type=pred.device.type, enabled=False):
            pred_mean, target_mean = pred.mean(dim=1), target.mean(dim=1)
            loss = pred.new_zeros(())
            if self.alpha_global > 0:
                loss = loss + self.alpha_global * unigrad_loss(
                    pred_mean, target_mean, self.neg_weight)
            if self.alpha_dense > 0:
                if self.subtract_mean:
                    pred = pred - pred_mean[:, None]
                    target = target - target_mean[:, None]
                loss = loss + self.alpha_dense * unigrad_loss(
                    pred.reshape(-1, width), target.reshape(-1, width),
                    self.neg_weight)
        return loss

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """Alias of :meth:`loss` (mmselfsup heads are called directly)."""
        return self.loss(pred, target)
