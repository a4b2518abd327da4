# Copyright (c) mmsim contributors. All rights reserved.
"""What a checkpoint save that failed (a full disk, an I/O error) tells
the user: the file, the bytes it needs, the bytes free, what to do."""
import errno
import os
import os.path as osp
import shutil
from typing import Any, Optional, Tuple

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

#: What :class:`AtomicCheckpointHook` does when a save fails.
SAVE_ERROR_POLICIES = ('stop', 'continue')

#: Errors of a full disk (or of a user's quota).
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class CheckpointSaveError(OSError):
    """A checkpoint could not be written (a full disk, an I/O error, ...).

    Raised by :class:`AtomicCheckpointHook` from the ``OSError`` of the
    write (as its ``__cause__``), with that error's ``errno``. Nothing was
    changed by the failed save: the checkpoints already saved and
    ``last_checkpoint`` are as before and the partial file is removed.

    Attributes:
        path (str): The checkpoint that could not be saved.
        bytes_needed (int, optional): An estimate of its size.
        bytes_free (int, optional): The bytes free on the file system of
            its folder after the partial file was removed (None when that
            could not be read).
    """

    path: Optional[str] = None
    bytes_needed: Optional[int] = None
    bytes_free: Optional[int] = None


def _format_bytes(num: Optional[int]) -> str:
    if num is None:
        return 'an unknown number of bytes'
    return f'{num} bytes ({num / 2**20:.1f} MiB)'


def _tensor_bytes(obj: Any) -> int:
    """The bytes of the tensors in a (nested) state dict."""
    if torch.is_tensor(obj):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(value) for value in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(value) for value in obj)
    return 0


def save_error(path: str, action: str, exc: OSError,
               needed: Tuple[Optional[int],
                             str], stop: bool) -> CheckpointSaveError:
    """The error of a failed save, once its partial files are removed.

    Args:
        path (str): The checkpoint that was being saved.
        action (str): What failed, e.g. 'writing <path>.part'.
        exc (OSError): The error of the file system.
        needed (tuple[int | None, str]): :func:`bytes_needed`'s estimate.
        stop (bool): Whether training stops (``on_save_error='stop'``).

    Returns:
        CheckpointSaveError: With ``exc``'s errno.
    """
    folder = osp.dirname(osp.abspath(path))
    needed, source = needed
    try:
        free: Optional[int] = shutil.disk_usage(folder).free
        free_text = (f'{_format_bytes(free)} are free on the file '
                     f'system of {folder}')
    except OSError as usage_error:
        free = None
        free_text = (f'the free space on the file system of {folder} '
                     f'could not be read ({usage_error})')
    code = errno.errorcode.get(exc.errno, f'errno {exc.errno}')
    if exc.errno in _NO_SPACE:
        advice = ('Free space there (older checkpoints, other runs), '
                  'lower max_keep_ckpts, or set work_dir (or the '
                  "checkpoint hook's out_dir) to a larger disk")
    else:
        advice = ('An I/O error is a fault of the disk, its file system '
                  'or a network mount: check them (the system log, '
                  "dmesg, the mount), or set work_dir (or the checkpoint "
                  "hook's out_dir) to another disk")
    if stop:
        advice += (', then resume with --resume from the last complete '
                   'checkpoint. With default_hooks.checkpoint.'
                   "on_save_error='continue' training would go on and "
                   'the save be tried again at the next interval.')
    else:
        advice += (". on_save_error='continue': training goes on and "
                   'the save is tried again at the next interval.')
    message = (f'could not save the checkpoint {path}: {action} failed '
               f'({code}: {exc.strerror or exc}). It needs about '
               f'{_format_bytes(needed)} ({source}); {free_text}. The '
               'checkpoints saved before and last_checkpoint are unchanged, '
               'none was deleted, and the partial file was removed. ' + advice)
    if exc.errno is None:
        error = CheckpointSaveError(message)
    else:
        error = CheckpointSaveError(exc.errno, message)
    error.path = path
    error.bytes_needed = needed
    error.bytes_free = free
    return error


def bytes_needed(runner: Runner, path: str,
                 save_optimizer: bool) -> Tuple[Optional[int], str]:
    """An estimate of the size of the checkpoint ``path``.

    Returns:
        tuple[int | None, str]: The bytes, and where they come from: the
        newest complete checkpoint in the folder (a best-checkpoint
        only when there is no other), else the bytes of the model's
        and the optimiser's tensors.
    """
    folder = osp.dirname(osp.abspath(path))
    suffix = osp.splitext(path)[1] or '.pth'
    best: Optional[Tuple[bool, float, str]] = None
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    for name in names:
        candidate = osp.join(folder, name)
        if not name.endswith(suffix) or not osp.isfile(candidate):
            continue
        try:
            mtime = osp.getmtime(candidate)
        except OSError:
            continue
        key = (not name.startswith('best_'), mtime, candidate)
        best = key if best is None else max(best, key)
    if best is not None:
        try:
            return (osp.getsize(best[2]),
                    f'the size of the previous checkpoint {best[2]}')
        except OSError:
            pass
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    try:
        needed = _tensor_bytes(model.state_dict())
        what = "the bytes of the model's"
        if save_optimizer:
            needed += _tensor_bytes(runner.optim_wrapper.state_dict())
            what += " and the optimiser's"
    except Exception:  # an estimate only: never mask the save error
        return None, f'no earlier checkpoint in {folder}'
    return needed, (f'{what} tensors: there is no earlier checkpoint in '
                    f'{folder}')


__all__ = [
    'SAVE_ERROR_POLICIES', 'CheckpointSaveError', 'save_error', 'bytes_needed'
]
