# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmselfsup.models.algorithms import BaseModel
from mmselfsup.registry import MODELS
from mmselfsup.structures import SelfSupDataSample

from ..utils import MomentumTarget, cosine_momentum


@MODELS.register_module()
class SIM(BaseModel):
    """Siamese Image Modeling.

    `Siamese Image Modeling for Self-Supervised Vision Representation
    Learning <https://arxiv.org/abs/2206.01204>`_ (CVPR 2023).

    One training step: view 1 (masked) -> backbone -> neck (projector +
    cross-view predictor) predicts, for every patch of view 2, what the
    momentum target (backbone + projector, EMA of the online ones) sees
    there; the head scores it with UniGrad.

    Args:
        backbone (dict): Encoder config, e.g. ``SIMViT``.
        neck (dict): ``SIMNeck`` config; its ``in_channels`` must equal the
            backbone's width and its ``grid_size`` the backbone's grid.
        head (dict): ``UniGradHead`` config.
        base_momentum (float): ``m_0`` of the cosine momentum schedule,
            the weight the target keeps per update. Defaults to 0.995.
        target_update_interval (int): Update the target at iterations
            ``t % interval == 0``: set it to the optimiser wrapper's
            ``accumulative_counts`` so the target moves once per
            accumulation window. Defaults to 1.
        pretrained (str, optional): Checkpoint to initialise from.
        data_preprocessor (dict, optional): Defaults to mmselfsup's
            ``SelfSupDataPreprocessor``.
        init_cfg (dict | list, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float = 0.995,
                 target_update_interval: int = 1,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if not 0. < base_momentum <= 1.:
            raise ValueError('base_momentum is the weight the target keeps '
                             f'(e.g. 0.995); got {base_momentum}')
        width = getattr(self.backbone, 'embed_dims', None)
        if width != self.neck.in_channels:
            raise ValueError(f'neck.in_channels={self.neck.in_channels} does '
                             f'not match the backbone width {width}')
        grid = getattr(self.backbone, 'grid_size', None)
        if grid != self.neck.grid_size:
            raise ValueError(f'neck.grid_size={self.neck.grid_size} does not '
                             f'match the backbone patch grid {grid}')
        if target_update_interval < 1:
            raise ValueError('target_update_interval must be >= 1, got '
                             f'{target_update_interval}')
        self.base_momentum = base_momentum
        self.target_update_interval = target_update_interval
        self.target = MomentumTarget(self._online_target_modules())

    def _online_target_modules(self) -> nn.ModuleDict:
        """The online modules the target averages, in the target's layout."""
        return nn.ModuleDict(
            dict(backbone=self.backbone, projector=self.neck.projector))

    def init_weights(self) -> None:
        """Initialise the online branch, then make the target its copy."""
        super().init_weights()
        self.target.copy_from(self._online_target_modules())

    @staticmethod
    def _runner_iter() -> Tuple[Optional[int], Optional[int]]:
        """(iter, max_iters) published by mmengine's runner, or Nones."""
        hub = MessageHub.get_current_instance()
        return hub.get_info('iter'), hub.get_info('max_iters')

    @property
    def momentum(self) -> float:
        """The momentum of the current iteration (runner's iter/max_iters;
        the target's update count outside a runner)."""
        cur_iter, max_iters = self._runner_iter()
        if cur_iter is None:
            cur_iter = int(self.target.steps)
        return cosine_momentum(self.base_momentum, cur_iter, max_iters)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """mmengine's train step, after checking that the target moves once
        per gradient-accumulation window. (mmengine's DDP wrapper does not
        call this method; the update rule itself lives in :meth:`loss`.)"""
        window = getattr(optim_wrapper, '_accumulative_counts', 1)
        if window != self.target_update_interval:
            raise ValueError(
                f'optim_wrapper accumulates {window} iterations but '
                f'model.target_update_interval={self.target_update_interval}'
                ': set them equal so the target updates once per window')
        return super().train_step(data, optim_wrapper)

    def extract_feat(self, inputs: List[torch.Tensor],
                     **kwargs) -> Tuple[torch.Tensor]:
        """Online encoder features of the first view.

        Args:
            inputs (list[torch.Tensor]): Views of shape (B, 3, H, W).

        Returns:
            tuple[torch.Tensor]: Tokens of shape (B, 1 + G * G, D_e).
        """
        return self.backbone(inputs[0])

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[SelfSupDataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The SIM training loss.

        Args:
            inputs (list[torch.Tensor]): View 1 and view 2, each of shape
                (B, 3, H, W).
            data_samples (list[SelfSupDataSample]): ``mask.value`` (G, G)
                for view 1 and ``pseudo_label.rel_pos`` (6, ) each.

        Returns:
            dict[str, torch.Tensor]: ``loss`` and the logged ``momentum``.
        """
        view_1, view_2 = inputs[0], inputs[1]
        mask = torch.stack([s.mask.value for s in data_samples]).to(
            view_1.device).bool()
        rel_pos = torch.stack(
            [s.pseudo_label.rel_pos for s in data_samples]).to(view_1.device)

        tokens = self.backbone(view_1, mask)[0]
        pred = self.neck(tokens, mask, rel_pos)

        momentum = self.momentum
        with torch.no_grad():
            cur_iter, _ = self._runner_iter()
            due = cur_iter is None or \
                cur_iter % self.target_update_interval == 0
            if self.training and due:
                self.target.update_parameters(self._online_target_modules(),
                                              momentum)
            target_tokens = self.target.module['backbone'](view_2)[0]
            target = self.target.module['projector'](target_tokens)[:, 1:]

        loss = self.head.loss(pred, target)
        if not torch.isfinite(loss):
            hub = MessageHub.get_current_instance()
            raise FloatingPointError(
                f'SIM loss is {loss.item()} at iteration '
                f'{hub.get_info("iter")}: stopping. Lower the learning rate '
                'or check the data (see the last checkpoint).')
        return dict(loss=loss, momentum=loss.new_tensor(momentum))
