# Copyright (c) mmsim contributors. All rights reserved.
import math
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseAveragedModel


def cosine_momentum(base_momentum: float, cur_iter: int,
                    max_iters: Optional[int]) -> float:
    """``m_t = 1 - (1 - m_0) * (cos(pi * t / T) + 1) / 2``: the momentum
    rises from ``m_0`` to 1 along a half cosine over training, as in BYOL
    and in the SIM release.

    Args:
        base_momentum (float): ``m_0``, e.g. 0.995; the weight kept by the
            target (``target = m * target + (1 - m) * online``).
        cur_iter (int): Current iteration ``t`` (0-based).
        max_iters (int, optional): Total iterations ``T``; ``None`` (no
            schedule known, e.g. outside a runner) keeps ``m_0``.

    Returns:
        float: The momentum ``m_t`` in [m_0, 1].
    """
    if not max_iters:
        return base_momentum
    progress = min(max(cur_iter / max_iters, 0.), 1.)
    return 1. - (1. - base_momentum) * (math.cos(math.pi * progress) + 1) / 2


class MomentumTarget(BaseAveragedModel):
    """The momentum (EMA) copy of the online modules SIM learns from.

    Reuses mmengine's averaged-model container (deep copy without
    gradients, an update counter saved in checkpoints); the update differs
    from mmselfsup's ``CosineEMA`` where SIM needs it: the caller passes the
    momentum (computed from the runner's iteration, so gradient accumulation
    and resume keep the schedule), only parameters are averaged (the target
    keeps its own BatchNorm statistics), all tensors are updated by two
    fused ``torch._foreach`` kernels instead of a Python loop, and the
    update count is mirrored on the host (:attr:`num_updates`) so that an
    update never reads the device.

    Args:
        model (nn.Module): The online modules to copy.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model, interval=1, update_buffers=False)
        # Host copy of the `steps` buffer; None after a state dict was
        # loaded into it, until it is read once.
        self._num_updates: Optional[int] = 0

    @property
    def num_updates(self) -> int:
        """Updates so far (the ``steps`` buffer), without a device read
        except the first after loading a state dict."""
        if self._num_updates is None:
            self._num_updates = int(self.steps)
        return self._num_updates

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._num_updates = None

    def avg_func(self, averaged_param: torch.Tensor,
                 source_param: torch.Tensor, steps: int) -> None:
        raise NotImplementedError('use update_parameters(model, momentum)')

    @torch.no_grad()
    def copy_from(self, model: nn.Module) -> None:
        """Make every parameter an exact copy of ``model``'s."""
        for avg, src in zip(self.module.parameters(), model.parameters()):
            avg.copy_(src)

    @torch.no_grad()
    def update_parameters(self, model: nn.Module, momentum: float) -> None:
        """``target = momentum * target + (1 - momentum) * online``.

        The first update (:attr:`num_updates` 0) copies the online weights,
        so the target starts as an exact copy of the initialised online
        branch.

        Args:
            model (nn.Module): Online modules, same structure as the copy.
            momentum (float): Weight kept by the target, in [0, 1].
        """
        if not 0. <= momentum <= 1.:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
        if self.num_updates == 0:
            self.copy_from(model)
        else:
            averaged = [p for p in self.module.parameters()]
            source = [p.detach() for p in model.parameters()]
            if len(averaged) != len(source):
                raise ValueError('online and target modules differ: '
                                 f'{len(source)} vs {len(averaged)} tensors')
            torch._foreach_mul_(averaged, momentum)
            torch._foreach_add_(averaged, source, alpha=1. - momentum)
        self.steps += 1
        self._num_updates = self.num_updates + 1
