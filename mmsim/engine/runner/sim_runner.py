# Copyright (c) mmsim contributors. All rights reserved.
"""mmengine's Runner with CPU multi-process training and clear data errors."""
from typing import Dict, Optional, Union

import torch
from mmengine.dist import is_distributed, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

from .cpu_distributed import cpu_model_wrapper_cfg, init_cpu_process_group
from .dataloader_checks import (check_annotation_files, check_data_paths,
                                check_has_batches, check_has_samples)
from .resume_checks import (check_resume_checkpoint,
                            newest_complete_checkpoint, set_aside)
from .work_dir_lock import lock_work_dir


class _LockHeartbeatHook(Hook):
    """Calls the work dir lock's :meth:`~.WorkDirLock.beat` after every
    training iteration and epoch."""

    priority = 'LOWEST'

    def __init__(self, lock) -> None:
        self.lock = lock

    def after_train_iter(self, runner, *args, **kwargs) -> None:
        self.lock.beat()

    def after_train_epoch(self, runner) -> None:
        self.lock.beat()


@RUNNERS.register_module()
class SIMRunner(Runner):
    """:class:`mmengine.runner.Runner`, plus what a new user needs.

    - ``--launcher pytorch`` on a machine without CUDA: the processes join
      a gloo group without mmengine's ``torch.cuda.set_device`` and DDP
      wraps the CPU model with ``device_ids=None``
      (:mod:`.cpu_distributed`). With CUDA nothing changes.
    - ``auto_scale_lr``: the lr mmengine logs as ``base_lr`` (a
      bookkeeping group of its optimiser wrapper that its ``scale_lr``
      leaves out) is scaled with the real groups, so the log shows the
      lr that trains.
    - A dataloader that cannot give a batch (empty annotation file, no
      samples, fewer samples than one batch with ``drop_last``) fails
      with the file and the setting to change, and so does a data_root,
      annotation file or image folder that does not exist
      (:mod:`.dataloader_checks`), for every loader the runner or a hook
      builds.
    - ``resume``: a checkpoint that is truncated or damaged (its zip
      records' CRC-32) is named with what is wrong and never deleted; an
      automatic resume (``--resume`` without a path) falls back to the
      newest complete checkpoint (:mod:`.resume_checks`).
    - One run per work dir: rank 0 takes ``<work_dir>/.mmsim_run.lock``
      when the runner is built and lets it go when :meth:`train` ends; a
      second run into a work dir that a live run holds stops at its start
      with :class:`~.work_dir_lock.WorkDirLockedError` naming that run,
      a dead run's lock is taken over with a warning
      (:mod:`.work_dir_lock`). The config's ``work_dir_lock =
      dict(timeout=300, heartbeat_interval=60)`` (seconds: a lock of
      another host without a heartbeat for ``timeout`` is stale) sets it,
      ``work_dir_lock = False`` turns it off.

    ``tools/train.py`` builds it. It is registered in mmengine's root
    ``RUNNERS`` (``runner_type='SIMRunner'`` for tools that honour it, in
    the mmdet or mmcls scope); not in mmselfsup's, whose lookups fail on
    the registry location mmselfsup 1.0.0 declares but lacks. mmselfsup's
    ``tools/train.py``, which ``mim train mmselfsup`` runs, always builds
    the plain Runner.

    Args:
        *args: As :class:`mmengine.runner.Runner`.
        **kwargs: As :class:`mmengine.runner.Runner`.

    Examples:
        >>> runner = SIMRunner.from_cfg(cfg)  # cfg.launcher = 'pytorch'
        >>> runner.train()
    """

    def setup_env(self, env_cfg: Dict) -> None:
        """mmengine's set-up; a CPU run joins its gloo group first."""
        if self.distributed and not is_distributed() and \
                not torch.cuda.is_available():
            init_cpu_process_group(self.launcher, env_cfg.get('dist_cfg', {}))
        super().setup_env(env_cfg)
        # here the work dir exists and the ranks are known, but mmengine
        # has written nothing yet (log dir, logs, config, checkpoints)
        self._work_dir_lock = lock_work_dir(
            self.work_dir, self.cfg.get('work_dir_lock', None))

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        """mmengine's hooks, and one that refreshes the work dir lock's
        heartbeat between iterations (no thread: see
        :func:`.lock_file.refresh_heartbeat`)."""
        super().register_hooks(default_hooks, custom_hooks)
        if getattr(self, '_work_dir_lock', None) is not None:
            self.register_hook(_LockHeartbeatHook(self._work_dir_lock))

    def train(self) -> nn.Module:
        """mmengine's training; the work dir's lock is let go at the end,
        also when training raises."""
        try:
            return super().train()
        finally:
            if getattr(self, '_work_dir_lock', None) is not None:
                self._work_dir_lock.release()

    def wrap_model(self, model_wrapper_cfg: Optional[Dict],
                   model: nn.Module) -> nn.Module:
        """mmengine's wrapping; on CPU, DDP gets ``device_ids=None``."""
        if self.distributed and not torch.cuda.is_available() and \
                not is_model_wrapper(model):
            model_wrapper_cfg = cpu_model_wrapper_cfg(
                model_wrapper_cfg, self.cfg.get('find_unused_parameters',
                                                False))
        return super().wrap_model(model_wrapper_cfg, model)

    def scale_lr(self,
                 optim_wrapper,
                 auto_scale_lr: Optional[Dict] = None) -> None:
        """mmengine's linear scaling, applied to the logged ``base_lr``
        too (mmengine 0.10 scales only ``optimizer.param_groups``)."""
        wrappers = list(optim_wrapper.values()) if isinstance(
            optim_wrapper, OptimWrapperDict) else [optim_wrapper]
        before = [w.optimizer.param_groups[0]['lr'] for w in wrappers]
        super().scale_lr(optim_wrapper, auto_scale_lr)
        for wrapper, lr in zip(wrappers, before):
            settings = getattr(wrapper, 'base_param_settings', None)
            if settings is not None and lr:
                settings['lr'] *= wrapper.optimizer.param_groups[0]['lr'] / lr

    def load_or_resume(self) -> None:
        """mmengine's loading and resuming, with the checkpoint checked
        first (:mod:`.resume_checks`): a corrupt checkpoint named to
        ``resume`` stops with the file and what is wrong; an automatic
        resume skips corrupt newer checkpoints (kept on disk) for the
        newest complete one, says so and renames each corrupt one to
        ``<name>.corrupt`` (kept, and not overwritten when the run saves
        that step again)."""
        if self._has_loaded or not self._resume:
            return super().load_or_resume()
        if self._load_from is not None:
            check_resume_checkpoint(self._load_from)
            return super().load_or_resume()
        path, skipped = newest_complete_checkpoint(self.work_dir)
        for bad, problem in skipped:
            kept = set_aside(bad) if is_main_process() else None
            self.logger.warning(f'Not resuming from {bad}: {problem}' +
                                (f'; kept as {kept}' if kept else '') + '.')
        if path is None:
            self.logger.info(f'No checkpoint in {self.work_dir} to resume '
                             'from: training starts afresh.')
            self._has_loaded = True
            return None
        self.logger.info(f'Resuming from {path}, the newest complete '
                         'checkpoint.')
        self.resume(path)
        self._has_loaded = True
        return None

    @staticmethod
    def build_dataloader(dataloader: Union[DataLoader, Dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        """:meth:`Runner.build_dataloader`, refusing loaders of no batch.

        Args:
            dataloader (DataLoader | dict): A dataloader or its config.
            seed (int, optional): Random seed. Defaults to None.
            diff_rank_seed (bool): As mmengine's. Defaults to False.

        Returns:
            DataLoader: The dataloader, with at least one batch.

        Raises:
            FileNotFoundError: A local data_root, annotation file or image
                folder that does not exist.
            EmptyDataError: An empty annotation file, a dataset of no
                samples or fewer samples than one batch.
        """
        if not isinstance(dataloader, dict):
            return dataloader
        check_data_paths(dataloader.get('dataset'))
        check_annotation_files(dataloader.get('dataset'))
        try:
            loader = Runner.build_dataloader(
                dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        except ValueError as error:
            check_has_samples(error, dataloader.get('dataset'))
            raise
        check_has_batches(loader, dataloader)
        return loader
