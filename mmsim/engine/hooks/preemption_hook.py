# Copyright (c) mmsim contributors. All rights reserved.
"""Save the whole training state when the cluster asks a job to stop, and
resume from that very iteration."""
import os.path as osp
import random
import signal
import types
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dist import (all_gather_object, get_rank, get_world_size,
                           is_distributed, is_main_process)
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from .atomic_files import (PART_SUFFIX, replace_atomically,
                           write_text_atomically)

#: Key of this hook's record in a checkpoint's ``meta``.
META_KEY = 'preemption'


def rng_states() -> Dict[str, Any]:
    """This process's Python, NumPy, torch (and CUDA) generator states."""
    states = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: Dict[str, Any]) -> None:
    """Restore what :func:`rng_states` returned."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@HOOKS.register_module()
class PreemptionHook(Hook):
    """On SIGTERM or SIGUSR1 (what Slurm and Kubernetes send before they
    stop a job), finish the current iteration, save one atomic checkpoint
    of the whole state and exit with ``128 + signal``; a ``--resume`` run
    continues from the next iteration, not from the start of the epoch.

    - **Agreement.** Every ``check_interval`` iterations the ranks
      all-reduce (max) whether any of them was signalled, over a gloo
      group on the CPU (no device synchronisation under NCCL), so all
      ranks stop at the same iteration and no rank saves alone.
    - **What is saved**: mmengine's checkpoint (model with its momentum
      target, optimiser, schedulers, message hub, epoch and iteration)
      as ``iter_<N>.pth`` (``.part``, fsync, rename) and
      ``last_checkpoint`` naming it, plus in ``meta['preemption']`` the
      batch within the epoch and every rank's Python, NumPy, torch and
      CUDA generator states.
    - **Resuming mid-epoch**: the first epoch skips the batches already
      trained by drawing them from the loader (the same sampler order and,
      with non-persistent workers, the same augmentation draws: the
      continuation equals an uninterrupted run) and then restores each
      rank's generators. With ``persistent_workers=True`` the workers
      restart, so their augmentation draws differ from an uninterrupted
      run, as after any mmengine resume.

    A signal that arrives while no training iteration runs (building,
    validation) is acted on after the next iteration. Signals are
    received only in the main thread of each rank, as Python allows.

    Args:
        signals (Sequence[str]): Names of the signals to catch.
            Defaults to ``('SIGTERM', 'SIGUSR1')``.
        check_interval (int): Iterations between the ranks' agreement.
            Defaults to 1.
        exit_after_save (bool): Exit after saving (status ``128 + signal
            number``, what a process killed by that signal reports, so a
            requeue script or a Kubernetes restart policy sees a stopped
            job).
            False lets training go on after the save. Defaults to True.

    Examples:
        >>> custom_hooks = [dict(type='PreemptionHook')]
    """

    priority = 'LOWEST'  # after the scheduler, logger and checkpoint hooks

    def __init__(self,
                 signals: Sequence[str] = ('SIGTERM', 'SIGUSR1'),
                 check_interval: int = 1,
                 exit_after_save: bool = True) -> None:
        unknown = [s for s in signals if not hasattr(signal, s)]
        if unknown:
            raise ValueError(f'PreemptionHook: unknown signal names {unknown}'
                             "; use names such as 'SIGTERM', 'SIGUSR1'")
        if check_interval < 1:
            raise ValueError('PreemptionHook: check_interval must be >= 1, '
                             f'got {check_interval}')
        self.signals = [getattr(signal, s) for s in signals]
        self.check_interval = check_interval
        self.exit_after_save = exit_after_save
        self.received: Optional[int] = None
        self._previous: Dict[int, Any] = {}
        self._group = None
        self._resume_record: Optional[dict] = None

    # signals ---------------------------------------------------------

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.received = signum

    def before_train(self, runner) -> None:
        """Catch the signals, build the CPU group, and set up a mid-epoch
        resume."""
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        if is_distributed():
            backend = torch_dist.get_backend()
            self._group = None if backend == 'gloo' else \
                torch_dist.new_group(backend='gloo')
        if self._resume_record is not None:
            self._resume_mid_epoch(runner, self._resume_record)
            self._resume_record = None

    def after_train(self, runner) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _agreed_signal(self) -> int:
        """The signal any rank received (0 for none), the same on all."""
        flag = torch.tensor([self.received or 0], dtype=torch.int64)
        if is_distributed():
            torch_dist.all_reduce(
                flag, op=torch_dist.ReduceOp.MAX, group=self._group)
        return int(flag.item())

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Any = None) -> None:
        """Every ``check_interval`` iterations, agree; if signalled, save
        and exit."""
        if (runner.iter + 1) % self.check_interval:
            return
        signum = self._agreed_signal()
        if not signum:
            return
        path = self._save(runner, batch_idx + 1)
        name = signal.Signals(signum).name
        status = 128 + signum
        runner.logger.warning(
            f'{name} received: saved iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}, batch {batch_idx + 1} of '
            f'{len(runner.train_dataloader)}) to {path}; resume with '
            '--resume' + (f'; exiting with status {status}.' if self.
                          exit_after_save else '; training goes on.'))
        self.received = None
        if self.exit_after_save:
            self.after_train(runner)
            raise SystemExit(status)

    # saving ----------------------------------------------------------

    def _save(self, runner, batches_done: int) -> str:
        """One atomic checkpoint of the whole state; its path."""
        states: List[dict] = all_gather_object(rng_states()) \
            if is_distributed() else [rng_states()]
        meta = {
            META_KEY:
            dict(
                batches_done=batches_done,
                epoch_length=len(runner.train_dataloader),
                world_size=get_world_size(),
                rng=states)
        }
        filename = f'iter_{runner.iter + 1}.pth'
        runner.save_checkpoint(
            runner.work_dir,
            filename + PART_SUFFIX,
            save_optimizer=True,
            save_param_scheduler=True,
            meta=meta,
            by_epoch=False)
        path = osp.join(runner.work_dir, filename)
        if is_main_process():
            replace_atomically(path + PART_SUFFIX, path)
            write_text_atomically(
                osp.join(runner.work_dir, 'last_checkpoint'), path)
        if is_distributed():
            torch_dist.barrier(group=self._group)
        return path

    # resuming --------------------------------------------------------

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep a preemption checkpoint's record for :meth:`before_train`."""
        record = checkpoint.get('meta', {}).get(META_KEY)
        self._resume_record = record if isinstance(record, dict) else None

    def _resume_mid_epoch(self, runner, record: dict) -> None:
        """Make the loop's next epoch skip the batches already trained and
        then restore this rank's generators."""
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            return  # mmengine's IterBasedTrainLoop skips the batches itself
        skip = record['batches_done']
        states = record['rng']
        mine = states[get_rank()] if len(states) == get_world_size() \
            else None
        if mine is None:
            runner.logger.warning(
                f'The preemption checkpoint was saved by '
                f'{len(states)} processes, this run has {get_world_size()}: '
                'the random generators are not restored.')
        runner.logger.info(
            f'Resuming inside epoch {loop.epoch + 1}: its first {skip} '
            'batches are drawn and skipped, then training continues at '
            f'iteration {loop.iter + 1}.')
        # mmengine's resume set epoch = the saved epoch and iter = the
        # iterations done; its run_epoch would start the epoch's batches
        # over, so this one epoch runs through _run_resumed_epoch
        loop.run_epoch = types.MethodType(
            _resumed_epoch_runner(skip, mine), loop)


def _resumed_epoch_runner(skip: int, rng: Optional[Dict[str, Any]]):
    """A ``run_epoch`` for an mmengine ``EpochBasedTrainLoop`` that starts
    at batch ``skip`` (with the batch indices of an uninterrupted epoch),
    then gives the loop its own ``run_epoch`` back."""

    def run_epoch(loop) -> None:
        del loop.run_epoch  # the class's method for the epochs after
        loop.runner.call_hook('before_train_epoch')
        loop.runner.model.train()
        if skip < len(loop.dataloader):
            batches = iter(loop.dataloader)
            for _ in range(skip):
                next(batches)
        else:  # saved at the epoch's last batch: only its end is left
            batches = iter(())
        if rng is not None:
            set_rng_states(rng)
        for idx, data_batch in enumerate(batches, start=skip):
            loop.run_iter(idx, data_batch)
        loop.runner.call_hook('after_train_epoch')
        loop._epoch += 1

    return run_epoch


__all__ = ['PreemptionHook', 'rng_states', 'set_rng_states']
