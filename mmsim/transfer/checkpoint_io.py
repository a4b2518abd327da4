# Copyright (c) mmsim contributors. All rights reserved.
"""Reading checkpoint files with one-line errors and without running code
they carry, and writing them atomically (pure PyTorch and the standard
library)."""
import os
import tempfile
import warnings
from collections import OrderedDict
from typing import Any, Dict, Optional, Sequence

import torch

from .conversion import CheckpointConversionError, list_keys
from .safe_unpickling import load_without_code

#: Names of non-tensor objects that checkpoints written by mmengine (its
#: ``meta`` and message hub) or by MAE-style scripts (``args``) hold: they
#: stand in without a warning.
#: Names every checkpoint of mmengine's runner asks for: numpy scalars and
#: arrays, mmengine's HistoryBuffer, and ``getattr`` (``__builtin__`` under
#: pickle protocol 2), with which the message hub's HistoryBuffers name
#: their statistics methods. They stand in without a warning.
EXPECTED_STAND_INS = ('numpy.', '_codecs.encode', 'mmengine.',
                      'argparse.Namespace', '__builtin__.getattr',
                      'builtins.getattr')


class UnbuiltObjectsWarning(UserWarning):
    """A checkpoint named classes or functions that were not built."""


def read_checkpoint(path: str) -> Any:
    """``torch.load`` a checkpoint file on the CPU without running code it
    carries (:func:`~mmsim.transfer.safe_unpickling.load_without_code`),
    with one-line errors naming the file when it is missing or unreadable.

    Tensors, containers, strings and numbers load as usual; any other
    object (numpy scalars of mmengine's ``meta``, or a callable a hostile
    file would run) is an inert stand-in. Names outside
    :data:`EXPECTED_STAND_INS` are reported in an
    :class:`UnbuiltObjectsWarning`.

    Args:
        path (str): Checkpoint file.

    Returns:
        Any: What the file holds.
    """
    if not os.path.isfile(path):
        raise CheckpointConversionError(f'{path}: no such checkpoint file' + (
            ' (it is a folder)' if os.path.isdir(path) else ''))
    try:
        checkpoint, stand_ins = load_without_code(path)
    except Exception as error:  # truncated zip, bad pickle, not a .pth
        raise CheckpointConversionError(
            f'{path} is not a readable PyTorch checkpoint '
            f'({type(error).__name__}: {str(error).splitlines()[0]}); the '
            'file is probably truncated (an interrupted copy or save) or not '
            'a .pth: copy it again') from error
    unexpected = [
        name for name in stand_ins if not name.startswith(EXPECTED_STAND_INS)
    ]
    if unexpected:
        warnings.warn(
            f'{path} asks to build {", ".join(unexpected)}: not built '
            '(mmsim never runs code from a checkpoint); its tensors are read '
            'as usual. A checkpoint of SIM needs none of these: check where '
            'the file came from.', UnbuiltObjectsWarning)
    return checkpoint


def checkpoint_tensors(
        checkpoint: Any,
        path: str,
        keys: Sequence[str] = ('state_dict', ),
        what: str = 'a checkpoint') -> 'OrderedDict[str, torch.Tensor]':
    """The tensors of a loaded checkpoint (see :func:`load_state_dict`).

    Args:
        checkpoint (Any): What :func:`read_checkpoint` returned.
        path (str): Its file, for the messages.
        keys (Sequence[str]): Keys under which the tensors may be nested,
            tried in order; a flat dict of tensors is used as it is.
        what (str): What the file should be, for the message when it has
            none of ``keys``. Defaults to ``'a checkpoint'``.

    Returns:
        OrderedDict[str, torch.Tensor]: The tensors.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointConversionError(
            f'{path} holds a {type(checkpoint).__name__}, not a dict')
    for key in keys:
        if isinstance(checkpoint.get(key), dict):
            return OrderedDict(checkpoint[key])
    if checkpoint and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return OrderedDict(checkpoint)
    raise CheckpointConversionError(
        f'{path} is not {what}: it has none of the keys {list(keys)} and is '
        'not a flat dict of tensors (top-level keys: '
        f'{list_keys(sorted(map(str, checkpoint)))})')


def load_state_dict(
        path: str,
        keys: Sequence[str] = ('state_dict', ),
        what: str = 'a checkpoint') -> 'OrderedDict[str, torch.Tensor]':
    """Read the tensors of a checkpoint file on the CPU:
    :func:`read_checkpoint`, then :func:`checkpoint_tensors` (same
    arguments, same result).
    """
    return checkpoint_tensors(read_checkpoint(path), path, keys, what)


def default_file_mode() -> int:
    """The mode a new file gets from ``open()``: ``0o666`` less the umask.

    Returns:
        int: E.g. ``0o644`` under the usual umask ``0o022``.
    """
    umask = os.umask(0o022)  # read it: os.umask only sets, returning the old
    os.umask(umask)
    return 0o666 & ~umask


def same_file(src: str, dst: str) -> bool:
    """Whether ``dst`` names the file ``src`` (also through a link).

    Args:
        src (str): An existing or missing path.
        dst (str): Another path.

    Returns:
        bool: True when writing ``dst`` would replace ``src``.
    """
    if os.path.realpath(src) == os.path.realpath(dst):
        return True
    try:
        return os.path.samefile(src, dst)  # hard links
    except OSError:  # one of them does not exist
        return False


def save_checkpoint(state_dict: Dict[str, torch.Tensor],
                    path: str,
                    meta: Optional[dict] = None) -> None:
    """Write ``{'meta': meta, 'state_dict': state_dict}`` atomically: to a
    temporary file in the same folder, then renamed over ``path``, so a
    failure never leaves a partial file. The file gets the mode of any new
    file (:func:`default_file_mode`), not the temporary file's ``0o600``,
    and its bytes depend only on what is saved, not on ``path``.

    Args:
        state_dict (dict[str, torch.Tensor]): Tensors to save.
        path (str): Destination.
        meta (dict, optional): Saved under ``meta``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp_path = tempfile.mkstemp(
        dir=folder, prefix='.' + os.path.basename(path), suffix='.tmp')
    os.close(handle)
    try:
        # through a file object, so that the archive's inner folder is
        # torch's fixed 'archive', not the temporary file's random name:
        # the same tensors give the same bytes (reuse keys on them)
        with open(tmp_path, 'wb') as file:
            torch.save(dict(meta=meta or {}, state_dict=state_dict), file)
        os.chmod(tmp_path, default_file_mode())
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise


__all__ = [
    'EXPECTED_STAND_INS', 'UnbuiltObjectsWarning', 'read_checkpoint',
    'checkpoint_tensors', 'load_state_dict', 'default_file_mode', 'same_file',
    'save_checkpoint'
]
