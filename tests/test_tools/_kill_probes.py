# Copyright (c) mmsim contributors. All rights reserved.
"""Hooks the kill-and-resume and preemption tests import
(``custom_imports``): a loss log that survives a SIGKILL, a checkpoint
hook killed mid-write, and a signal sent at a chosen iteration."""
import json
import os
import os.path as osp
import signal

from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from mmsim.engine import AtomicCheckpointHook


@HOOKS.register_module()
class LossLogHook(Hook):
    """Appends ``{"iter": i, "loss": l}`` to ``out_file`` after every
    iteration, flushed, so a killed run keeps what it logged (each rank of
    several to ``out_file.rank<r>``).

    Args:
        out_file (str): The JSON-lines file.
    """

    def __init__(self, out_file: str) -> None:
        self.out_file = out_file

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        out_file = self.out_file if get_world_size() == 1 else \
            f'{self.out_file}.rank{get_rank()}'
        with open(out_file, 'a') as f:
            f.write(
                json.dumps(
                    dict(iter=runner.iter + 1, loss=float(outputs['loss']))) +
                '\n')
            f.flush()


@HOOKS.register_module()
class KilledMidWriteCheckpointHook(AtomicCheckpointHook):
    """AtomicCheckpointHook that, at ``kill_at_epoch``, leaves half of the
    checkpoint's bytes on the disk and SIGKILLs its own process: the state
    a kill in the middle of writing the file leaves. Once per work dir
    (marked by a file ``killed_once``), so the resumed run saves normally.

    Args:
        kill_at_epoch (int): The epoch whose save is killed.
        **kwargs: As for ``AtomicCheckpointHook``.
    """

    def __init__(self, kill_at_epoch: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kill_at_epoch = kill_at_epoch

    def _write(self, runner, out_dir, filename, *args, **kwargs) -> None:
        marker = osp.join(out_dir, 'killed_once')
        if runner.epoch + 1 != self.kill_at_epoch or osp.exists(marker):
            return super()._write(runner, out_dir, filename, *args, **kwargs)
        open(marker, 'w').close()
        runner.save_checkpoint(out_dir, filename + '.part', *args, **kwargs)
        part = osp.join(out_dir, filename + '.part')
        with open(part, 'r+b') as f:
            f.truncate(os.path.getsize(part) // 2)
        os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class SignalAtIterHook(Hook):
    """Sends ``signal`` to its own process after iteration ``iteration``
    (1-based) on rank ``rank``: a preemption notice at a known moment,
    through the real signal machinery. Once per work dir (marked by a file
    ``signalled_once``), so the resumed run is left alone.

    Args:
        iteration (int): The iteration after which to signal.
        signal_name (str): E.g. ``'SIGTERM'``.
        rank (int): The rank that receives it. Defaults to 0.
    """

    priority = 'HIGHEST'  # before PreemptionHook looks at the same iter

    def __init__(self,
                 iteration: int,
                 signal_name: str,
                 rank: int = 0) -> None:
        self.iteration = iteration
        self.signum = getattr(signal, signal_name)
        self.rank = rank

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        marker = osp.join(runner.work_dir, 'signalled_once')
        if runner.iter + 1 != self.iteration or get_rank() != self.rank:
            return
        if osp.exists(marker):
            return
        open(marker, 'w').close()
        os.kill(os.getpid(), self.signum)
