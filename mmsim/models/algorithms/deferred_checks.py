# Copyright (c) mmsim contributors. All rights reserved.
from typing import Dict, Tuple, Type

import torch
from mmengine.dist import all_reduce, get_world_size


class DeferredChecks:
    """Conditions a training step tests on the device, read later on the host.

    Raising on a tensor's value (``if not torch.isfinite(loss): raise``)
    makes the host wait for the GPU at that point of every step. Instead,
    :meth:`record` keeps, on the device, the first iteration at which each
    check failed, and :meth:`raise_if_failed` reads all of them at once
    (one device-to-host copy) when the host can afford to wait, e.g. every
    logging interval.

    Args:
        checks (dict[str, tuple[type, str]]): Check name -> (exception
            class, message). The message may name ``{iteration}``.

    Examples:
        >>> checks = DeferredChecks(
        ...     dict(loss=(FloatingPointError, 'NaN at {iteration}')))
        >>> loss = torch.tensor(float('nan'))
        >>> checks.record('loss', ~torch.isfinite(loss), iteration=7)
        >>> checks.raise_if_failed()
        Traceback (most recent call last):
        FloatingPointError: NaN at iteration 7
    """

    def __init__(self, checks: Dict[str, Tuple[Type[Exception], str]]) -> None:
        self.checks = dict(checks)
        self._first_failure: Dict[str, torch.Tensor] = {}

    def record(self, name: str, failed: torch.Tensor, iteration: int) -> None:
        """Remember ``iteration`` if ``failed`` holds and ``name`` had not
        failed before; no host read.

        Args:
            name (str): One of the checks.
            failed (torch.Tensor): Bool scalar, True = the check failed.
            iteration (int): The current iteration.
        """
        if name not in self.checks:
            raise KeyError(f'unknown check {name!r}; known: '
                           f'{sorted(self.checks)}')
        first = self._first_failure.get(name)
        if first is None:
            first = torch.full((), -1, dtype=torch.long, device=failed.device)
        elif first.device != failed.device:
            first = first.to(failed.device)
        self._first_failure[name] = first.masked_fill(failed & first.lt(0),
                                                      iteration)

    def raise_if_failed(self) -> None:
        """Raise the exception of the first failed check, if any.

        Under ``torch.distributed`` every process must call it at the same
        point (it all-reduces the failures), and all of them raise when
        any one recorded a failure, so none is left waiting for the others
        in a collective.
        """
        if not self._first_failure:
            return
        names = sorted(self._first_failure)
        first = torch.stack([self._first_failure[n] for n in names])
        failed = first.ge(0).long()
        if get_world_size() > 1:
            all_reduce(failed, op='sum')
        for name, at, anywhere in zip(names, first.tolist(), failed.tolist()):
            if anywhere:
                exc_type, message = self.checks[name]
                where = f'iteration {at}' if at >= 0 else \
                    'an iteration of another process'
                raise exc_type(message.format(iteration=where))
