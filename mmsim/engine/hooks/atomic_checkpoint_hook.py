# Copyright (c) mmsim contributors. All rights reserved.
"""mmengine's CheckpointHook with writes that a kill cannot corrupt."""
import glob
import os
import os.path as osp
import shutil
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from .atomic_files import (PART_SUFFIX, fsync_path, remove_path,
                           write_text_atomically)
from .checkpoint_bookkeeping import (AtomicSaveRunner, DeferredRemoval,
                                     restore, snapshot)
from .checkpoint_save_error import (SAVE_ERROR_POLICIES, CheckpointSaveError,
                                    bytes_needed, save_error)


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

    A save that fails with an ``OSError`` (a full disk, an I/O error)
    changes nothing: its ``.part`` file is removed, the checkpoints saved
    before and ``last_checkpoint`` stay as they were, nothing is deleted,
    and the hook's bookkeeping (``keep_ckpt_ids``, ``last_ckpt``, the best
    checkpoint, and their copies in the message hub) is rolled back, so a
    later save keeps the right files and ``--resume`` finds the last
    complete checkpoint. The error (:class:`CheckpointSaveError`) names the
    file, the bytes it needs (estimated), the bytes free on its file
    system and what to do. Only the main process writes (mmengine's
    ``Runner.save_checkpoint`` does nothing on the other ranks), so the
    error is raised, or logged, there alone.

    Atomicity needs a local (or POSIX network) file system; for other
    backends (``backend_args`` naming object storage, whose uploads are
    whole objects anyway) the hook behaves as mmengine's.

    Args:
        *args: As for mmengine's ``CheckpointHook``.
        on_save_error (str): What a failed save does. ``'stop'`` raises
            :class:`CheckpointSaveError` out of ``runner.train()``;
            ``'continue'`` logs its message as a warning and training goes
            on, the save being tried again at the next interval.
            Defaults to ``'stop'``.
        **kwargs: As for mmengine's ``CheckpointHook``.

    Examples:
        >>> default_hooks = dict(checkpoint=dict(
        ...     type='AtomicCheckpointHook', interval=1, max_keep_ckpts=2))
        >>> # a long run on a disk that may fill up: train on, retry later
        >>> default_hooks = dict(checkpoint=dict(
        ...     type='AtomicCheckpointHook', interval=1,
        ...     on_save_error='continue'))
    """

    def __init__(self, *args, on_save_error: str = 'stop', **kwargs) -> None:
        if on_save_error not in SAVE_ERROR_POLICIES:
            raise ValueError(
                'AtomicCheckpointHook: on_save_error must be '
                f"'stop' (raise the error) or 'continue' (log it as a "
                f'warning and train on), got {on_save_error!r}')
        super().__init__(*args, **kwargs)
        self.on_save_error = on_save_error

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
        """``runner.save_checkpoint`` to ``filename.part``, then renamed.

        Raises:
            CheckpointSaveError: The write, a flush or the rename failed
                with an ``OSError``; the ``.part`` file (and the renamed
                file, if this call created it) was removed first.
        """
        path = osp.join(out_dir, filename)
        part_path = path + PART_SUFFIX
        existed = osp.lexists(path)
        action = f'writing {part_path}'
        try:
            runner.save_checkpoint(out_dir, filename + PART_SUFFIX, *args,
                                   **kwargs)
            if is_main_process():  # the only process that wrote
                action = f'flushing {part_path} to the disk'
                fsync_path(part_path)
                action = f'renaming {part_path} to {filename}'
                os.replace(part_path, path)
                action = f'flushing the folder {out_dir} to the disk'
                fsync_path(osp.dirname(osp.abspath(path)))
        except BaseException as exc:
            if is_main_process():
                remove_path(part_path)
                if not existed:
                    remove_path(path)
            ours = isinstance(exc, CheckpointSaveError)
            if ours or not isinstance(exc, OSError):
                raise
            raise self._save_error(runner, path, action, exc) from exc

    def _save_error(self, runner: Runner, path: str, action: str,
                    exc: OSError) -> CheckpointSaveError:
        """The error of a failed save (:func:`.checkpoint_save_error.
        save_error`), once its partial files are removed."""
        return save_error(path, action, exc,
                          bytes_needed(runner, path, self.save_optimizer),
                          self.on_save_error == 'stop')

    def _on_failed_save(self, runner: Runner,
                        error: CheckpointSaveError) -> None:
        """Raise ``error`` (``on_save_error='stop'``) or log it."""
        if self.on_save_error == 'stop':
            raise error
        runner.logger.warning(str(error))

    def _save_checkpoint_with_step(self, runner: Runner, step: int,
                                   meta: dict) -> None:
        """Save the checkpoint of ``step``; then update ``last_checkpoint``;
        then delete what falls out of ``max_keep_ckpts``. A failed save
        changes nothing (see the class).

        Args:
            runner (Runner): The runner (or the proxy of
                :meth:`_save_best_checkpoint`).
            step (int): The epoch or iteration the file is named after.
            meta (dict): Saved under the checkpoint's 'meta'.
        """
        if isinstance(runner, AtomicSaveRunner):
            runner = runner._runner
        if not self._is_local():
            return super()._save_checkpoint_with_step(runner, step, meta)
        saved = snapshot(self, runner)
        try:
            self._save_and_commit(runner, step, meta)
        except CheckpointSaveError as error:
            restore(self, runner, saved)
            self._on_failed_save(runner, error)
        except BaseException:
            restore(self, runner, saved)
            raise

    def _save_and_commit(self, runner: Runner, step: int, meta: dict) -> None:
        """:meth:`_save_checkpoint_with_step` without the roll-back."""
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
        ckpt_path = osp.join(self.out_dir, ckpt_filename)
        existed = osp.lexists(ckpt_path)
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
        save_file = osp.join(runner.work_dir, 'last_checkpoint')
        try:
            write_text_atomically(save_file, self.last_ckpt)
        except OSError as exc:
            # the new checkpoint goes too: a failed save changes nothing
            remove_path(save_file + PART_SUFFIX)
            if not existed:
                remove_path(ckpt_path)
            raise self._save_error(runner, ckpt_path, f'writing {save_file}',
                                   exc) from exc
        if outdated is not None and outdated != step:
            path = osp.join(self.out_dir, self.filename_tmpl.format(outdated))
            if osp.isfile(path):
                os.remove(path)
            elif osp.isdir(path):  # deepspeed saves folders
                shutil.rmtree(path)

    def _save_best_checkpoint(self, runner: Runner, metrics: dict) -> None:
        """mmengine's best-checkpoint rules; the new best is written
        atomically and the previous best deleted only after it. A failed
        write of a best checkpoint changes nothing (see the class).

        Args:
            runner (Runner): The runner.
            metrics (dict): Evaluation results.
        """
        if not self.save_best or not self._is_local():
            return super()._save_best_checkpoint(runner, metrics)
        saved = snapshot(self, runner)
        created: List[str] = []  # best checkpoints this call created
        failed: List[CheckpointSaveError] = []

        def write(runner: Runner, out_dir: str, filename: str, *args,
                  **kwargs) -> None:
            path = osp.join(out_dir, filename)
            existed = osp.lexists(path)
            try:
                self._write(runner, out_dir, filename, *args, **kwargs)
            except CheckpointSaveError as error:
                failed.append(error)
                raise
            if not existed:
                created.append(path)

        backend = self.file_backend
        self.file_backend = DeferredRemoval(backend)
        try:
            super()._save_best_checkpoint(
                AtomicSaveRunner(runner, write), metrics)
        except CheckpointSaveError as error:
            if not failed:  # the step checkpoint's, after the new best one
                if is_main_process():
                    self.file_backend.flush()
                raise
            self.file_backend.pending = []  # the previous best ones stay
            if is_main_process():
                for path in created:
                    remove_path(path)
            restore(self, runner, saved)
            self._on_failed_save(runner, error)
        else:
            if is_main_process():
                self.file_backend.flush()
        finally:
            self.file_backend = backend
