# Copyright (c) mmsim contributors. All rights reserved.
"""mmengine's CheckpointHook with writes that a kill cannot corrupt."""
import glob
import os
import os.path as osp
import shutil
from typing import Any, Callable, List, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

#: Suffix of a checkpoint being written; renamed away once complete.
PART_SUFFIX = '.part'


def fsync_path(path: str) -> None:
    """Flush a file's (or a folder's entries') data to the disk.

    Args:
        path (str): A file, or a folder after a rename inside it.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(part_path: str, path: str) -> None:
    """Make the complete file ``part_path`` appear as ``path`` in one step.

    The data are flushed first and the folder after the rename, so after a
    crash ``path`` holds either its old content or all of the new one.

    Args:
        part_path (str): The written file, in the same folder as ``path``.
        path (str): The final name (replaced if it exists).
    """
    fsync_path(part_path)
    os.replace(part_path, path)
    fsync_path(osp.dirname(osp.abspath(path)))


def write_text_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    Args:
        path (str): The file to write (e.g. the work dir's
            ``last_checkpoint``).
        text (str): Its new content.
    """
    part_path = path + PART_SUFFIX
    with open(part_path, 'w') as f:
        f.write(text)
    replace_atomically(part_path, path)


class _DeferredRemoval:
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


class _AtomicSaveRunner:
    """The runner, with ``save_checkpoint`` going through ``write``."""

    def __init__(self, runner: Runner, write: Callable) -> None:
        self._runner = runner
        self._write = write

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        self._write(self._runner, out_dir, filename, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints are complete or absent.

    mmengine's hook deletes the oldest kept checkpoint *before* it writes
    the new one, writes in place, then rewrites ``last_checkpoint`` in
    place: a kill or a full disk during a save can leave a partial
    ``epoch_N.pth`` and, with ``max_keep_ckpts=1``, a ``last_checkpoint``
    naming a file already deleted. Here every checkpoint is written to
    ``<name>.part`` in the same folder, flushed to the disk (fsync) and
    renamed over ``<name>`` (a rename within a folder is atomic);
    ``last_checkpoint`` is then replaced the same way, and only after that
    are checkpoints beyond ``max_keep_ckpts`` (or the previous best one)
    deleted. A ``.part`` file left by a killed run is removed at the next
    start. Everything else (arguments, names, what is saved, resuming) is
    mmengine's. Registered in mmengine's root registry, so mmselfsup,
    mmdet and mmseg configs all find it by name.

    Atomicity needs a local (or POSIX network) file system; for other
    backends (``backend_args`` naming object storage, whose uploads are
    whole objects anyway) the hook behaves as mmengine's.

    Args:
        *args: As for mmengine's ``CheckpointHook``.
        **kwargs: As for mmengine's ``CheckpointHook``.

    Examples:
        >>> default_hooks = dict(checkpoint=dict(
        ...     type='AtomicCheckpointHook', interval=1, max_keep_ckpts=2))
    """

    def before_train(self, runner: Runner) -> None:
        """mmengine's set-up, then removal of partial files of a killed run.

        Args:
            runner (Runner): The runner.
        """
        super().before_train(runner)
        if not (self._is_local() and is_main_process()):
            return
        for path in glob.glob(osp.join(self.out_dir, '*' + PART_SUFFIX)):
            runner.logger.warning(
                f'Removing {path}: a checkpoint a killed run did not finish '
                'writing (the previous complete checkpoint is kept).')
            if osp.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)

    def _is_local(self) -> bool:
        backend = getattr(self.file_backend, 'wrapped', self.file_backend)
        return (self.file_client_args is None
                and isinstance(backend, LocalBackend))

    def _write(self, runner: Runner, out_dir: str, filename: str, *args,
               **kwargs) -> None:
        """``runner.save_checkpoint`` to ``filename.part``, then renamed."""
        runner.save_checkpoint(out_dir, filename + PART_SUFFIX, *args,
                               **kwargs)
        if is_main_process():
            path = osp.join(out_dir, filename)
            replace_atomically(path + PART_SUFFIX, path)

    def _save_checkpoint_with_step(self, runner: Runner, step: int,
                                   meta: dict) -> None:
        """Save the checkpoint of ``step``; then update ``last_checkpoint``;
        then delete what falls out of ``max_keep_ckpts``.

        Args:
            runner (Runner): The runner (or the proxy of
                :meth:`_save_best_checkpoint`).
            step (int): The epoch or iteration the file is named after.
            meta (dict): Saved under the checkpoint's 'meta'.
        """
        if isinstance(runner, _AtomicSaveRunner):
            runner = runner._runner
        if not self._is_local():
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated: Optional[int] = None
        # the bookkeeping goes into the message hub before the save, as in
        # mmengine, so the checkpoint resumes with the list that holds it
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._write(
            runner,
            self.out_dir,
            ckpt_filename,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        write_text_atomically(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if outdated is not None and outdated != step:
            path = osp.join(self.out_dir, self.filename_tmpl.format(outdated))
            if osp.isfile(path):
                os.remove(path)
            elif osp.isdir(path):  # deepspeed saves folders
                shutil.rmtree(path)

    def _save_best_checkpoint(self, runner: Runner, metrics: dict) -> None:
        """mmengine's best-checkpoint rules; the new best is written
        atomically and the previous best deleted only after it.

        Args:
            runner (Runner): The runner.
            metrics (dict): Evaluation results.
        """
        if not self.save_best or not self._is_local():
            return super()._save_best_checkpoint(runner, metrics)
        backend = self.file_backend
        self.file_backend = _DeferredRemoval(backend)
        try:
            super()._save_best_checkpoint(
                _AtomicSaveRunner(runner, self._write), metrics)
            if is_main_process():
                self.file_backend.flush()
        finally:
            self.file_backend = backend
