# Copyright (c) mmsim contributors. All rights reserved.
"""mmengine's checkpoints under torch >= 2.6, without patching mmengine.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``: it builds
tensors, containers and a short list of torch types, and refuses any other
class a file names. mmengine 0.10.7 calls ``torch.load`` without the
argument (for ``--resume``, ``load_from`` and ``load_checkpoint``), and the
checkpoints it writes hold more than tensors: ``meta`` carries numpy
scalars and arrays (the message hub's logged values, a preempted run's
NumPy RNG state) and mmengine's ``HistoryBuffer`` objects, whose pickled
state names their statistics methods as ``getattr(HistoryBuffer, 'min')``
(pickle protocol 2 has no other way to name a method). So on such a torch
every resume fails with ``UnpicklingError: Weights only load failed``.

:func:`allow_mmengine_checkpoint_types` adds exactly those data types to
torch's list of safe globals (``torch.serialization.add_safe_globals``,
the documented way to widen ``weights_only``): numpy's array
reconstruction, ``ndarray``, ``dtype`` and its per-type classes, numpy's
scalar constructor, ``HistoryBuffer``, and, in place of ``getattr``,
:func:`history_buffer_method`, which resolves only a statistics method of
``HistoryBuffer`` by its registered name. None of them runs code named by
the file, so ``weights_only`` still refuses a checkpoint that asks for
``os.system``, ``getattr`` of anything else or any other callable.
``import mmsim`` (which every config's ``custom_imports`` does) calls it
once; on torch < 2.4 there is no such list and it does nothing (there
``torch.load`` loads everything).
"""
import pickle
from typing import List

import torch

#: The statistics every ``HistoryBuffer`` has (registered when the first
#: one is built, so not yet in a fresh process).
DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_method(owner: object, name: str) -> object:
    """``getattr`` as mmengine's checkpoints use it, and no more: a
    statistics method (``min``, ``max``, ``current``, ``mean`` or one
    registered with ``HistoryBuffer.register_statistics``) of the
    ``HistoryBuffer`` class.

    Raises:
        pickle.UnpicklingError: For any other object or name.
    """
    from mmengine.logging import HistoryBuffer
    if (isinstance(owner, type) and issubclass(owner, HistoryBuffer)
            and isinstance(name, str)
            and (name in DEFAULT_STATISTICS
                 or name in HistoryBuffer._statistics_methods)):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'the checkpoint asks for getattr({owner!r}, {name!r}); mmsim allows '
        'getattr under weights_only only for HistoryBuffer statistics methods')


def mmengine_checkpoint_types() -> List[object]:
    """The classes and functions beyond tensors that mmengine's checkpoints
    ask the unpickler for (numpy's reconstruction helpers under the module
    path the installed numpy pickles with)."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    try:  # numpy >= 2 keeps them in numpy._core
        from numpy._core import multiarray
    except ImportError:
        from numpy.core import multiarray
    types: List[object] = [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
        HistoryBuffer, (history_buffer_method, 'builtins.getattr')
    ]
    dtype_classes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    if dtype_classes is not None:
        for name in dir(dtype_classes):
            member = getattr(dtype_classes, name)
            if isinstance(member, type) and issubclass(member, np.dtype):
                types.append(member)
    return types


def allow_mmengine_checkpoint_types() -> bool:
    """Let ``torch.load(weights_only=True)`` build mmengine's checkpoint
    types (:func:`mmengine_checkpoint_types`).

    Returns:
        bool: Whether torch has a safe-globals list (torch >= 2.4) and the
        types were added to it.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return False
    add_safe_globals(mmengine_checkpoint_types())
    return True


__all__ = [
    'allow_mmengine_checkpoint_types', 'history_buffer_method',
    'mmengine_checkpoint_types'
]
