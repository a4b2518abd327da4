# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.structures import BaseDataElement

from ...hosts import host
from ...layers import counted_visible_indices, flat_mask, visible_indices
from .deferred_checks import DeferredChecks
from .momentum_target import MomentumTarget, cosine_momentum


class SIMStepState:
    """SIM's step bookkeeping: the iteration (the runner's, else the
    target's update count), whether the target is due (``t % interval ==
    0`` under a runner, always outside one), the visible-patch count (under
    a runner read on the host once, then checked on the device) and the
    deferred checks (recorded on the device under a runner, raised at once
    outside one). Plain attributes: DDP must not broadcast them.

    Args:
        target_update_interval (int): Iterations between target updates.
        num_patches (int): Patches of the grid, ``G * G``.
    """

    def __init__(self, target_update_interval: int, num_patches: int) -> None:
        self.target_update_interval = target_update_interval
        self.num_patches = num_patches
        self.in_runner = False
        self.iteration = 0
        self.num_visible: Optional[int] = None
        self.checks = DeferredChecks(
            dict(
                loss=(FloatingPointError,
                      'SIM loss is not finite (first at {iteration}): '
                      'stopping. Lower the learning rate or check the data '
                      '(see the last checkpoint).'),
                mask=(ValueError,
                      'every sample must mask the same number of patches '
                      'in every batch; a batch at {iteration} differs from '
                      'the first one')))

    @staticmethod
    def runner_iter() -> Tuple[Optional[int], Optional[int]]:
        """(iter, max_iters) published by mmengine's runner, or Nones."""
        hub = MessageHub.get_current_instance()
        return hub.get_info('iter'), hub.get_info('max_iters')

    def start(self, num_updates: int) -> 'SIMStepState':
        """Begin a step at the runner's iteration (else ``num_updates``)."""
        cur_iter, _ = self.runner_iter()
        self.in_runner = cur_iter is not None
        self.iteration = cur_iter if self.in_runner else num_updates
        return self

    @property
    def target_update_due(self) -> bool:
        """Whether this step moves the momentum target."""
        return (not self.in_runner
                or self.iteration % self.target_update_interval == 0)

    def visible_indices(self, mask: torch.Tensor) -> torch.Tensor:
        """Positions (B, V) of the visible patches of a (B, G, G) mask
        (True = masked), for the encoder and the neck."""
        if not self.in_runner:
            return counted_visible_indices(mask, self.num_patches)
        visible = flat_mask(mask, self.num_patches).eq(0).sum(1)
        if self.num_visible is None:
            self.num_visible = int(visible[0])
        self.checks.record('mask',
                           visible.ne(self.num_visible).any(), self.iteration)
        return visible_indices(mask, self.num_visible)

    def check_loss(self, loss: torch.Tensor) -> None:
        """Record whether ``loss`` is finite (raise outside a runner)."""
        self.checks.record('loss', ~torch.isfinite(loss), self.iteration)
        if not self.in_runner:
            self.checks.raise_if_failed()


@host().MODELS.register_module()
class SIM(host().BaseSelfSupervisor):
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
            accumulation window (checked by :meth:`check_optim_wrapper`).
            Defaults to 1.
        pretrained (str, optional): Checkpoint to initialise from.
        data_preprocessor (dict, optional): Defaults to the host's
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
        self.step_state = SIMStepState(target_update_interval,
                                       self.neck.grid_size**2)

    def _online_target_modules(self) -> nn.ModuleDict:
        """The backbone and the neck's ``target_modules()``, as averaged."""
        return nn.ModuleDict(
            dict(backbone=self.backbone, **self.neck.target_modules()))

    def init_weights(self) -> None:
        """Initialise the online branch, then make the target its copy."""
        super().init_weights()
        self.target.copy_from(self._online_target_modules())

    @property
    def momentum(self) -> float:
        """``m_t`` at the runner's iteration (the target's update count
        outside a runner)."""
        cur_iter, max_iters = SIMStepState.runner_iter()
        if cur_iter is None:
            cur_iter = self.target.num_updates
        return cosine_momentum(self.base_momentum, cur_iter, max_iters)

    def check_optim_wrapper(self, optim_wrapper: OptimWrapper) -> None:
        """Check that the target moves once per gradient-accumulation
        window (``target_update_interval`` = ``accumulative_counts``).
        Called by :meth:`train_step` and by ``TrainingChecksHook`` (DDP
        runs its own train step, never this model's).

        Args:
            optim_wrapper (OptimWrapper): The runner's optimiser wrapper.
        """
        window = getattr(optim_wrapper, '_accumulative_counts', 1)
        if window != self.target_update_interval:
            raise ValueError(
                f'optim_wrapper accumulates {window} iterations but '
                f'model.target_update_interval={self.target_update_interval}'
                ': set them equal so the target updates once per window')

    def raise_deferred_errors(self) -> None:
        """Raise what the steps recorded on the device (a non-finite loss,
        unequal mask counts); ``TrainingChecksHook`` calls it at logging
        intervals, checkpoints and the end, on all processes together."""
        self.step_state.checks.raise_if_failed()

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """mmengine's train step, after :meth:`check_optim_wrapper`."""
        self.check_optim_wrapper(optim_wrapper)
        return super().train_step(data, optim_wrapper)

    def extract_feat(self, inputs: List[torch.Tensor],
                     **kwargs) -> Tuple[torch.Tensor]:
        """Online encoder tokens (B, 1 + G * G, D_e) of all of view 1."""
        return self.backbone(inputs[0])

    @staticmethod
    def sample_geometry(
            data_samples: List[BaseDataElement],
            device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
        """The batch's bool view-1 masks (B, G, G), True = masked, and
        view-2 geometry ``rel_pos`` (B, 6), on ``device``, from each
        sample (the host's ``view_geometry``: mmselfsup's ``mask.value``
        and ``pseudo_label.rel_pos``, mmpretrain's ``mask`` and
        ``rel_pos``)."""
        masks, rel_pos = zip(*map(host().view_geometry, data_samples))
        return (torch.stack(masks).to(device).bool(),
                torch.stack(rel_pos).to(device))

    def online_prediction(self, view_1: torch.Tensor, visible: torch.Tensor,
                          rel_pos: torch.Tensor) -> torch.Tensor:
        """The online branch: what it predicts for every view-2 patch.

        Args:
            view_1 (torch.Tensor): Images of shape (B, 3, S, S).
            visible (torch.Tensor): Long (B, V): view 1's visible patches.
            rel_pos (torch.Tensor): View-2 geometry (B, 6).

        Returns:
            torch.Tensor: Predictions of shape (B, G * G, D), row
            ``r * G + c`` for view-2 patch ``(r, c)``.
        """
        tokens = self.backbone(view_1, visible=visible)[0]
        return self.neck(tokens, visible, rel_pos)

    @torch.no_grad()
    def target_features(self, view_2: torch.Tensor) -> torch.Tensor:
        """The momentum target: its features at every view-2 patch.

        Args:
            view_2 (torch.Tensor): Images of shape (B, 3, S, S).

        Returns:
            torch.Tensor: Targets of shape (B, G * G, D) (cls dropped),
            before the head's normalisation.
        """
        tokens = self.target.module['backbone'](view_2)[0]
        return self.target.module['projector'](tokens)[:, 1:]

    @torch.no_grad()
    def predict_dense(
        self, inputs: List[torch.Tensor], data_samples: List[BaseDataElement]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The prediction for, and the target of, every view-2 patch, as
        :meth:`loss` computes them, without the loss or a target update.
        The mask is counted on the host; norm layers run in the model's
        current mode (``eval()``: running statistics).

        Args:
            inputs (list[torch.Tensor]): View 1 and view 2, (B, 3, S, S).
            data_samples (list[BaseDataElement]): As for :meth:`loss`.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Predictions and targets, each
            (B, G * G, D), row ``r * G + c`` for view-2 patch ``(r, c)``.
        """
        mask, rel_pos = self.sample_geometry(data_samples, inputs[0].device)
        visible = counted_visible_indices(mask, self.step_state.num_patches)
        pred = self.online_prediction(inputs[0], visible, rel_pos)
        return pred, self.target_features(inputs[1])

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[BaseDataElement],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The SIM loss: geometry -> online prediction -> target update ->
        target features -> head. Under a runner nothing is read from the
        device after the first batch's mask count (:class:`SIMStepState`).

        Args:
            inputs (list[torch.Tensor]): View 1 and view 2, (B, 3, S, S).
            data_samples (list[BaseDataElement]): The host's samples:
                view-1 mask (G, G) and view-2 ``rel_pos`` (6, ) each
                (:meth:`sample_geometry`).

        Returns:
            dict[str, torch.Tensor]: ``loss`` and the logged ``momentum``.
        """
        view_1, view_2 = inputs[0], inputs[1]
        step = self.step_state.start(self.target.num_updates)
        mask, rel_pos = self.sample_geometry(data_samples, view_1.device)
        pred = self.online_prediction(view_1, step.visible_indices(mask),
                                      rel_pos)
        momentum = self.momentum
        if self.training and step.target_update_due:
            self.target.update_parameters(self._online_target_modules(),
                                          momentum)
        target = self.target_features(view_2)
        loss = self.head.loss(pred, target)
        step.check_loss(loss)
        return dict(loss=loss, momentum=loss.new_full((), momentum))
