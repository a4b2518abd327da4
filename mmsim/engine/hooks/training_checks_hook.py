# Copyright (c) mmsim contributors. All rights reserved.
"""The checks a model keeps out of its training step, run by the runner."""
from typing import List, Optional

from mmengine.hooks import CheckpointHook, Hook, LoggerHook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from ...datasets.transforms.pipeline_checks import check_views_fit_backbone
from ...hosts import host


@host().HOOKS.register_module()
class TrainingChecksHook(Hook):
    """Runs the checks a model cannot run inside its own training step.

    - Before training: ``model.check_optim_wrapper(runner.optim_wrapper)``
      (SIM: its ``target_update_interval`` equals the optimiser wrapper's
      accumulation window). mmengine's DDP wrapper runs its own train
      step, never the model's, so this is where the check always runs.
      And, for a model whose backbone has a ``grid_size`` (SIM's
      ``SIMViT``), that the training pipeline's ``SIMTwoViewCrop`` and
      ``SIMBlockMaskGenerator`` make views and masks of the backbone's
      ``img_size`` and patch grid (``check_views_fit_backbone`` of
      :mod:`mmsim.datasets.transforms.pipeline_checks`).
    - Every ``interval`` iterations, at the last iteration of every epoch
      and of training, and at every iteration an iteration-based
      ``CheckpointHook`` saves at: ``model.raise_deferred_errors()``,
      which raises what the steps recorded on the device (SIM: a
      non-finite loss, unequal mask counts). So no checkpoint is written
      after a recorded failure, and the host waits for the device for
      these checks only at those iterations.

    Models without these methods are left alone, so one hook list serves
    several algorithms (e.g. the replay benchmark's). Under DDP every
    process runs the same checks at the same iterations, and all raise
    together.

    Args:
        interval (int, optional): Iterations between reads of the deferred
            checks. None (default) takes the ``LoggerHook``'s interval (50
            without one).

    Examples:
        >>> custom_hooks = [dict(type='TrainingChecksHook')]
    """
    # Before CheckpointHook (VERY_LOW) in the same iteration and epoch.
    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: Optional[int] = None) -> None:
        if interval is not None and interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval
        self._interval = interval or 50
        self._checkpoint_intervals: List[int] = []

    @staticmethod
    def _model(runner: Runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner: Runner) -> None:
        """Check the model against the optimiser wrapper and the training
        data; find when the logger and iteration-based checkpoint hooks
        act."""
        check = getattr(self._model(runner), 'check_optim_wrapper', None)
        if check is not None:
            check(runner.optim_wrapper)
        backbone = getattr(self._model(runner), 'backbone', None)
        grid = getattr(backbone, 'grid_size', None)
        if grid is not None:
            check_views_fit_backbone(runner.train_dataloader.dataset,
                                     backbone.img_size[0], grid)
        if self.interval is None:
            self._interval = next(
                (h.interval
                 for h in runner.hooks if isinstance(h, LoggerHook)), 50)
        self._checkpoint_intervals = [
            h.interval for h in runner.hooks if isinstance(h, CheckpointHook)
            and not h.by_epoch and h.interval > 0
        ]

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Raise what the model deferred, when an iteration is due."""
        due = (
            self.every_n_train_iters(runner, self._interval)
            or self.is_last_train_iter(runner)
            or self.end_of_epoch(runner.train_dataloader, batch_idx) or any(
                self.every_n_train_iters(runner, n)
                for n in self._checkpoint_intervals))
        if due:
            self.check_now(runner)

    def after_train(self, runner: Runner) -> None:
        """A last read (e.g. after a loop stopped early)."""
        self.check_now(runner)

    def check_now(self, runner: Runner) -> None:
        """``model.raise_deferred_errors()`` where the model has it.

        Args:
            runner (Runner): The training runner.
        """
        check = getattr(self._model(runner), 'raise_deferred_errors', None)
        if check is not None:
            check()
