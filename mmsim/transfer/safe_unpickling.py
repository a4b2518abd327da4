# Copyright (c) mmsim contributors. All rights reserved.
"""Loading PyTorch checkpoints without running any code they carry.

A ``.pth`` is a pickle, and a pickle may name any importable callable
(``os.system``, ``builtins.exec``) to be called while it loads: ``torch.load``
of a downloaded file runs whatever its author put there. torch's own
``weights_only=True`` refuses such files, but also every checkpoint
mmengine writes (its ``meta`` holds numpy scalars and its message hub
``HistoryBuffer`` objects), and torch 2.0 has no way to allow more.

This module is a pickle module for ``torch.load(pickle_module=...)``: the
classes and functions torch's ``weights_only`` loader allows (tensors,
storages, dtypes, ``OrderedDict``) are built as usual, and every other name
the file asks for is replaced by an inert stand-in that is never called,
so nothing outside that list runs. Tensors, strings, numbers and the
containers holding them load as always; what stood in is reported by name.
The same code serves torch 2.0 and torch >= 2.6 (where ``weights_only``
became the default).
"""
import pickle
import threading
from typing import Any, Dict, List, Set, Tuple

import torch

_recording = threading.local()


def _fallback_globals() -> Dict[str, Any]:
    """What torch's weights_only loader builds, if it cannot be asked (its
    list is private API): tensor and parameter rebuilding, ``torch.Size``
    and ``OrderedDict`` (storage classes torch resolves before asking)."""
    from collections import OrderedDict

    from torch import _utils
    return {
        'collections.OrderedDict': OrderedDict,
        'torch._utils._rebuild_tensor': _utils._rebuild_tensor,
        'torch._utils._rebuild_tensor_v2': _utils._rebuild_tensor_v2,
        'torch._utils._rebuild_parameter': _utils._rebuild_parameter,
        'torch.nn.parameter.Parameter': torch.nn.Parameter,
        'torch.Size': torch.Size,
    }


def _allowed_globals() -> Dict[str, Any]:
    """The names torch's own ``weights_only`` unpickler builds, by
    ``'module.name'``."""
    allowed = _fallback_globals()
    try:
        from torch._weights_only_unpickler import _get_allowed_globals
        allowed.update(_get_allowed_globals())
    except (ImportError, AttributeError, TypeError):
        pass
    return allowed


class NotConstructed:
    """An inert stand-in for an object of a class (or the result of a
    function) a checkpoint named that is not tensor data: nothing of the
    named class or function runs; its arguments and state are dropped.

    Attributes:
        qualname (str): The ``module.name`` the file asked for.
    """

    qualname = ''

    def __new__(cls, *args: Any, **kwargs: Any) -> 'NotConstructed':
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> 'NotConstructed':
        return self

    def __repr__(self) -> str:
        return f'<{self.qualname}: not constructed>'


class Unpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only torch's data names; any
    other name becomes a subclass of :class:`NotConstructed`, recorded for
    :func:`load_without_code`."""

    _allowed: Dict[str, Any] = {}

    def find_class(self, module: str, name: str) -> Any:
        qualname = f'{module}.{name}'
        if not Unpickler._allowed:
            Unpickler._allowed = _allowed_globals()
        allowed = Unpickler._allowed.get(qualname)
        if allowed is not None:
            return allowed
        names = getattr(_recording, 'names', None)
        if names is not None:
            names.add(qualname)
        return type(name, (NotConstructed, ), dict(qualname=qualname))


def load(file: Any, **kwargs: Any) -> Any:
    """``pickle.load`` through :class:`Unpickler` (torch reads the legacy
    format's header with it)."""
    return Unpickler(file, **kwargs).load()


def loads(data: bytes, **kwargs: Any) -> Any:
    """``pickle.loads`` through :class:`Unpickler`."""
    import io
    return load(io.BytesIO(data), **kwargs)


def load_without_code(path: str) -> Tuple[Any, List[str]]:
    """``torch.load`` a file on the CPU without running code it carries.

    Args:
        path (str): A ``.pth`` (zip or legacy format).

    Returns:
        tuple[Any, list[str]]: What the file holds (tensors, containers,
        strings, numbers as usual; any other object a
        :class:`NotConstructed`), and the sorted names that stood in.
    """
    import sys
    names: Set[str] = set()
    _recording.names = names
    try:
        checkpoint = torch.load(
            path,
            map_location='cpu',
            pickle_module=sys.modules[__name__],
            weights_only=False)
    finally:
        _recording.names = None
    return checkpoint, sorted(names)


__all__ = ['NotConstructed', 'Unpickler', 'load', 'loads', 'load_without_code']
