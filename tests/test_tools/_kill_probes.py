# Copyright (c) mmsim contributors. All rights reserved.
"""Hooks the kill-and-resume test imports (``custom_imports``): a loss log
that survives a SIGKILL, and a checkpoint hook killed mid-write."""
import json
import os
import os.path as osp
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from mmsim.engine import AtomicCheckpointHook


@HOOKS.register_module()
class LossLogHook(Hook):
    """Appends ``{"iter": i, "loss": l}`` to ``out_file`` after every
    iteration, flushed, so a killed run keeps what it logged.

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
        with open(self.out_file, 'a') as f:
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
