# Copyright (c) mmsim contributors. All rights reserved.
"""One timed line per slow phase of a conversion (loading, writing), e.g.
``loading a.pth (331.2 MB) ... 2.1 s``. Standard library and torch only."""
import contextlib
import sys
import time
from typing import Callable, Dict, Iterator, Optional, TextIO

import torch

_UNITS = ('B', 'kB', 'MB', 'GB', 'TB')


def format_size(num_bytes: float) -> str:
    """A byte count in decimal units with one decimal (bytes as integers).

    Args:
        num_bytes (float): Bytes (>= 0).

    Returns:
        str: E.g. ``'512 B'``, ``'1.5 kB'``, ``'331.2 MB'``.
    """
    size, unit = float(num_bytes), 0
    while size >= 1000 and unit < len(_UNITS) - 1:
        size /= 1000
        unit += 1
    return f'{int(size)} B' if unit == 0 else f'{size:.1f} {_UNITS[unit]}'


def tensor_bytes(state_dict: Dict[str, torch.Tensor]) -> int:
    """Bytes of the storages behind a state dict's tensors, each shared
    storage counted once (about what ``torch.save`` writes).

    Args:
        state_dict (dict[str, torch.Tensor]): Tensors.

    Returns:
        int: Total storage bytes.
    """
    seen, total = set(), 0
    for tensor in state_dict.values():
        if not isinstance(tensor, torch.Tensor):
            continue
        if hasattr(tensor, 'untyped_storage'):  # torch >= 2.0
            storage = tensor.untyped_storage()
            nbytes = storage.nbytes()
        else:
            storage = tensor.storage()
            nbytes = storage.size() * storage.element_size()
        key = (storage.data_ptr(), nbytes)
        if key not in seen:
            seen.add(key)
            total += nbytes
    return total


@contextlib.contextmanager
def timed_phase(verb: str,
                path: str,
                num_bytes: Optional[int] = None,
                file: Optional[TextIO] = None,
                clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Print ``<verb> <path> (<size>) ... `` before the work and its
    duration (``2.1 s``) after it, on one line; ``failed`` when the work
    raises (the error itself is the caller's to report).

    Args:
        verb (str): E.g. ``'loading'``.
        path (str): The file.
        num_bytes (int, optional): Its size; left out when None.
        file (TextIO, optional): Where to print. Defaults to the current
            ``sys.stdout``.
        clock (callable): Seconds now. Defaults to ``time.monotonic``.
    """
    file = sys.stdout if file is None else file
    size = '' if num_bytes is None else f' ({format_size(num_bytes)})'
    file.write(f'{verb} {path}{size} ... ')
    file.flush()
    start = clock()
    try:
        yield
    except BaseException:
        file.write('failed\n')
        file.flush()
        raise
    file.write(f'{clock() - start:.1f} s\n')
    file.flush()
