# Copyright (c) mmsim contributors. All rights reserved.
"""Reading and writing checkpoint files, and the converter CLIs' flow."""
import contextlib
import os
import sys
import tempfile
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Sequence

import torch

from .conversion import CheckpointConversionError, Conversion, list_keys
from .phases import tensor_bytes, timed_phase


def read_checkpoint(path: str) -> Any:
    """``torch.load`` a checkpoint file on the CPU, with one-line errors
    naming the file when it is missing or unreadable.

    Args:
        path (str): Checkpoint file.

    Returns:
        Any: What the file holds.
    """
    if not os.path.isfile(path):
        raise CheckpointConversionError(
            f'{path}: no such checkpoint file' +
            (' (it is a folder)' if os.path.isdir(path) else ''))
    try:
        checkpoint = torch.load(path, map_location='cpu')
    except Exception as error:  # truncated zip, bad pickle, not a .pth
        raise CheckpointConversionError(
            f'{path} is not a readable PyTorch checkpoint '
            f'({type(error).__name__}: {str(error).splitlines()[0]}); the '
            'file is probably truncated (an interrupted copy or save) or not '
            'a .pth: copy it again') from error
    return checkpoint


def checkpoint_tensors(
    checkpoint: Any,
    path: str,
    keys: Sequence[str] = ('state_dict', ),
    what: str = 'a checkpoint'
) -> 'OrderedDict[str, torch.Tensor]':
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
    what: str = 'a checkpoint'
) -> 'OrderedDict[str, torch.Tensor]':
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
    file (:func:`default_file_mode`), not the temporary file's ``0o600``.

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
        torch.save(dict(meta=meta or {}, state_dict=state_dict), tmp_path)
        os.chmod(tmp_path, default_file_mode())
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise


def convert_and_save(src: str,
                     dst: str,
                     convert: Callable[[Dict[str, torch.Tensor]], Conversion],
                     converter: str,
                     keys: Sequence[str] = ('state_dict', ),
                     what: str = 'a checkpoint',
                     verbose: bool = True,
                     check: Optional[Callable[[dict], None]] = None,
                     meta: Optional[dict] = None) -> int:
    """The converter CLIs' flow: load, convert, check, report, save.

    Nothing is written unless every step succeeds (an existing ``dst``
    keeps its bytes); errors are printed to stderr as one line that starts
    with the source path, and give exit status 1. The two slow phases on a
    large checkpoint print one line each to stdout as they run, with the
    size and the time: ``loading SRC (331.2 MB) ... 2.1 s`` (``failed``
    instead of the time when the file cannot be read) and ``writing DST
    (85.9 MB) ... 0.4 s`` (the tensors' bytes). An output that would replace
    the input (the same path, or a link to it) is refused up front.

    Args:
        src (str): Source checkpoint.
        dst (str): Destination, written atomically.
        convert (callable): Maps the loaded state dict to a Conversion.
        converter (str): Name recorded in the output's meta.
        keys (sequence[str]): Where the tensors sit in ``src`` (see
            :func:`load_state_dict`). Defaults to ``('state_dict', )``.
        what (str): What ``src`` should be, for the message when it has
            none of ``keys``. Defaults to ``'a checkpoint'``.
        verbose (bool): Print every mapped key. Defaults to True.
        check (callable, optional): Called on the converted state dict;
            raises CheckpointConversionError or RuntimeError to refuse it.
        meta (dict, optional): Extra meta (e.g. the weights' license).

    Returns:
        int: Exit status.
    """
    refused = (CheckpointConversionError, ) if check is None else \
        (CheckpointConversionError, RuntimeError)
    if same_file(src, dst):
        print(
            f'error: the output {dst} is the input {src}: converting in '
            'place would replace the checkpoint (optimiser, neck and target '
            'included) with the converted subset; give another output path',
            file=sys.stderr)
        return 1
    try:
        # no file: no phase line, read_checkpoint names what is wrong
        loading = timed_phase('loading', src, os.path.getsize(src)) \
            if os.path.isfile(src) else contextlib.nullcontext()
        with loading:
            checkpoint = read_checkpoint(src)
        conversion = convert(checkpoint_tensors(checkpoint, src, keys, what))
        if check is not None:
            check(conversion.state_dict)
    except refused as error:
        message = str(error)  # one line that names the file
        if not message.startswith(src):
            message = f'{src}: {message}'
        print(f'error: {message}', file=sys.stderr)
        return 1
    print(conversion.summary(verbose=verbose), flush=True)
    with timed_phase('writing', dst, tensor_bytes(conversion.state_dict)):
        save_checkpoint(
            conversion.state_dict,
            dst,
            meta=dict(
                converted_from=src, converter=converter, **(meta or {})))
    print(f'saved {dst}')
    return 0
