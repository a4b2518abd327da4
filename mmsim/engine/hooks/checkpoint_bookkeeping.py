# Copyright (c) mmsim contributors. All rights reserved.
"""A checkpoint hook's bookkeeping (kept checkpoints, the last and best
ones, their copies in the message hub): a snapshot to roll a failed save
back to, and the runner and file-backend proxies that let
:class:`~.atomic_checkpoint_hook.AtomicCheckpointHook` reuse mmengine's
best-checkpoint rules."""
from collections import deque
from typing import Any, Callable, Dict, List

from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner


def _is_bookkeeping(key: str) -> bool:
    """Whether the message hub's runtime info ``key`` is a checkpoint
    hook's (what a save changes there)."""
    return key in ('keep_ckpt_ids', 'last_ckpt') or key.startswith(
        ('best_score', 'best_ckpt'))


class DeferredRemoval:
    """A file backend whose removals wait until :meth:`flush`."""

    def __init__(self, backend: Any) -> None:
        self.wrapped = backend
        self.pending: List[str] = []

    def remove(self, path: str) -> None:
        self.pending.append(path)

    def rmtree(self, path: str) -> None:
        self.pending.append(path)

    def flush(self) -> None:
        for path in self.pending:
            if self.wrapped.isfile(path):
                self.wrapped.remove(path)
            elif self.wrapped.isdir(path):
                self.wrapped.rmtree(path)
        self.pending = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class AtomicSaveRunner:
    """The runner, with ``save_checkpoint`` going through ``write``."""

    def __init__(self, runner: Runner, write: Callable) -> None:
        self._runner = runner
        self._write = write

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        self._write(self._runner, out_dir, filename, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)


def snapshot(hook: CheckpointHook, runner: Runner) -> Dict[str, Any]:
    """What a save changes in a checkpoint hook and the message hub."""
    info = runner.message_hub.runtime_info
    keep = getattr(hook, 'keep_ckpt_ids', None)
    best_dict = getattr(hook, 'best_ckpt_path_dict', None)
    return dict(
        keep_ckpt_ids=None if keep is None else list(keep),
        last_ckpt=hook.last_ckpt,
        best_ckpt_path=getattr(hook, 'best_ckpt_path', None),
        best_ckpt_path_dict=None if best_dict is None else dict(best_dict),
        hub={
            key: value
            for key, value in info.items() if _is_bookkeeping(key)
        })


def restore(hook: CheckpointHook, runner: Runner, saved: Dict[str,
                                                              Any]) -> None:
    """Undo what a failed save changed (see :func:`snapshot`)."""
    if saved['keep_ckpt_ids'] is not None:
        hook.keep_ckpt_ids = deque(saved['keep_ckpt_ids'], hook.max_keep_ckpts)
    hook.last_ckpt = saved['last_ckpt']
    if hasattr(hook, 'best_ckpt_path'):
        hook.best_ckpt_path = saved['best_ckpt_path']
    if saved['best_ckpt_path_dict'] is not None:
        hook.best_ckpt_path_dict = saved['best_ckpt_path_dict']
    hub = runner.message_hub
    for key in list(hub.runtime_info):
        if _is_bookkeeping(key) and key not in saved['hub']:
            hub.pop_info(key)
    for key, value in saved['hub'].items():
        hub.update_info(key, value)


__all__ = ['DeferredRemoval', 'AtomicSaveRunner', 'snapshot', 'restore']
