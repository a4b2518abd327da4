# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmselfsup.models.algorithms import BaseModel
from mmselfsup.registry import MODELS
from mmselfsup.structures import SelfSupDataSample

from ...datasets.transforms.pipeline_checks import check_views_fit_backbone
from ..utils import DeferredChecks, MomentumTarget, cosine_momentum


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
            accumulation window (checked by :meth:`check_optim_wrapper`).
            Defaults to 1.
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
        # Plain attributes, not buffers: DDP must not broadcast them.
        self._num_visible: Optional[int] = None
        self._checks = DeferredChecks(
            dict(
                loss=(FloatingPointError,
                      'SIM loss is not finite (first at {iteration}): '
                      'stopping. Lower the learning rate or check the data '
                      '(see the last checkpoint).'),
                mask=(ValueError,
                      'every sample must mask the same number of patches '
                      'in every batch; a batch at {iteration} differs from '
                      'the first one')))

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
            cur_iter = self.target.num_updates
        return cosine_momentum(self.base_momentum, cur_iter, max_iters)

    def check_optim_wrapper(self, optim_wrapper: OptimWrapper) -> None:
        """Check that the target moves once per gradient-accumulation
        window: ``target_update_interval`` must equal the wrapper's
        ``accumulative_counts``.

        Called by :meth:`train_step` and, before training, by
        :class:`~mmsim.engine.hooks.TrainingChecksHook` (mmengine's DDP
        wrapper runs its own train step, never this model's).

        Args:
            optim_wrapper (OptimWrapper): The runner's optimiser wrapper.
        """
        window = getattr(optim_wrapper, '_accumulative_counts', 1)
        if window != self.target_update_interval:
            raise ValueError(
                f'optim_wrapper accumulates {window} iterations but '
                f'model.target_update_interval={self.target_update_interval}'
                ': set them equal so the target updates once per window')

    def check_train_data(self, dataset) -> None:
        """Check that the training views and masks fit the backbone: a
        ``SIMTwoViewCrop`` of ``img_size``, a ``SIMBlockMaskGenerator`` on
        its patch grid. Called by
        :class:`~mmsim.engine.hooks.TrainingChecksHook` before training.

        Args:
            dataset: The built training dataset (wrappers are followed).
        """
        grid = getattr(self.backbone, 'grid_size', None)
        if grid is not None:
            check_views_fit_backbone(dataset, self.backbone.img_size[0], grid)

    def raise_deferred_errors(self) -> None:
        """Raise what the training steps found wrong on the device (a
        non-finite loss, unequal mask counts) since they started.

        Under a runner :meth:`loss` only records these on the device, so
        that a step never waits for the GPU;
        :class:`~mmsim.engine.hooks.TrainingChecksHook` calls this every
        logging interval, before every checkpoint and after training.
        Under ``torch.distributed`` all processes must call it together.
        """
        self._checks.raise_if_failed()

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """mmengine's train step, after :meth:`check_optim_wrapper`."""
        self.check_optim_wrapper(optim_wrapper)
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

    @staticmethod
    def sample_geometry(
            data_samples: List[SelfSupDataSample],
            device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
        """The batch's view-1 masks and view-2 geometry.

        Args:
            data_samples (list[SelfSupDataSample]): ``mask.value`` (G, G)
                and ``pseudo_label.rel_pos`` (6, ) each.
            device (torch.device): Where the model runs.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Bool masks (B, G, G), True =
            masked, and ``rel_pos`` (B, 6).
        """
        mask = torch.stack([s.mask.value for s in data_samples]).to(
            device).bool()
        rel_pos = torch.stack(
            [s.pseudo_label.rel_pos for s in data_samples]).to(device)
        return mask, rel_pos

    def online_prediction(self,
                          view_1: torch.Tensor,
                          mask: torch.Tensor,
                          rel_pos: torch.Tensor,
                          num_visible: Optional[int] = None) -> torch.Tensor:
        """The online branch: what it predicts for every view-2 patch.

        Args:
            view_1 (torch.Tensor): Images of shape (B, 3, S, S).
            mask (torch.Tensor): View-1 masks (B, G, G), True = masked.
            rel_pos (torch.Tensor): View-2 geometry (B, 6).
            num_visible (int, optional): Visible patches per sample, when
                known (then the mask is not read on the host). None counts
                and checks them.

        Returns:
            torch.Tensor: Predictions of shape (B, G * G, D), row
            ``r * G + c`` for view-2 patch ``(r, c)``.
        """
        tokens = self.backbone(view_1, mask, num_visible)[0]
        return self.neck(tokens, mask, rel_pos)

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

    def _known_visible_count(self, mask: torch.Tensor, iteration: int) -> int:
        """Visible patches per sample, read on the host once (first batch)
        and afterwards only checked on the device, per sample."""
        visible = mask.flatten(1).eq(0).sum(1)
        if self._num_visible is None:
            self._num_visible = int(visible[0])
        self._checks.record('mask', visible.ne(self._num_visible).any(),
                            iteration)
        return self._num_visible

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[SelfSupDataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The SIM training loss.

        Under mmengine's runner the step reads nothing back from the device
        (after the first batch, whose mask count it reads once): the loss
        being finite and the masks' counts are checked on the device and
        raised by :meth:`raise_deferred_errors`. Outside a runner they are
        raised at once.

        Args:
            inputs (list[torch.Tensor]): View 1 and view 2, each of shape
                (B, 3, H, W).
            data_samples (list[SelfSupDataSample]): ``mask.value`` (G, G)
                for view 1 and ``pseudo_label.rel_pos`` (6, ) each.

        Returns:
            dict[str, torch.Tensor]: ``loss`` and the logged ``momentum``.
        """
        view_1, view_2 = inputs[0], inputs[1]
        mask, rel_pos = self.sample_geometry(data_samples, view_1.device)
        cur_iter, _ = self._runner_iter()
        in_runner = cur_iter is not None
        iteration = cur_iter if in_runner else self.target.num_updates
        num_visible = self._known_visible_count(mask, iteration) \
            if in_runner else None

        pred = self.online_prediction(view_1, mask, rel_pos, num_visible)

        momentum = self.momentum
        due = not in_runner or cur_iter % self.target_update_interval == 0
        if self.training and due:
            self.target.update_parameters(self._online_target_modules(),
                                          momentum)
        target = self.target_features(view_2)

        loss = self.head.loss(pred, target)
        self._checks.record('loss', ~torch.isfinite(loss), iteration)
        if not in_runner:
            self.raise_deferred_errors()
        return dict(loss=loss, momentum=loss.new_full((), momentum))
