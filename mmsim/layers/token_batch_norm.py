# Copyright (c) mmsim contributors. All rights reserved.
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from ..hosts import host


def _distributed_world_size() -> int:
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


@host().MODELS.register_module()
class SIMTokenBN(nn.Module):
    """BatchNorm over the channels of a token sequence, in fp32, synced.

    SIM's projector and predictor blocks normalise ``(B, N, C)`` tokens with
    statistics over all ``B * N`` tokens (cls included), always in fp32, and
    synchronised across processes. torch's ``SyncBatchNorm`` is CUDA-only in
    torch 2.0 and mmengine's ``convert_sync_batchnorm`` would hand it the
    wrong layout, so this module syncs itself with a differentiable
    all-reduce (works on gloo and NCCL). It deliberately does not subclass
    ``_BatchNorm``, so converters leave it alone.

    Args:
        num_features (int): Channels ``C``.
        eps (float): Added to the variance. Defaults to 1e-5.
        momentum (float): Running statistics momentum. Defaults to 0.1.
        sync (bool): Reduce statistics across processes when
            ``torch.distributed`` is initialised. Defaults to True.
    """
    _abbr_ = 'bn'

    def __init__(self,
                 num_features: int,
                 eps: float = 1e-5,
                 momentum: float = 0.1,
                 sync: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.sync = sync
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer('running_mean', torch.zeros(num_features))
        self.register_buffer('running_var', torch.ones(num_features))
        self.register_buffer('num_batches_tracked',
                             torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the last dimension.

        Args:
            x (torch.Tensor): Tokens of shape (..., C), any float dtype.

        Returns:
            torch.Tensor: Float32 tensor of the same shape.
        """
        shape = x.shape
        with torch.autocast(device_type=x.device.type, enabled=False):
            flat = x.float().reshape(-1, self.num_features)
            if self.training and self.sync and _distributed_world_size() > 1:
                out = self._synced_batch_norm(flat)
            else:
                if self.training:
                    self.num_batches_tracked.add_(1)
                out = F.batch_norm(flat, self.running_mean, self.running_var,
                                   self.weight, self.bias, self.training,
                                   self.momentum, self.eps)
        return out.reshape(shape)

    def _synced_batch_norm(self, flat: torch.Tensor) -> torch.Tensor:
        """Batch norm of (M, C) rows with statistics over all processes."""
        from torch.distributed.nn.functional import all_reduce
        count = flat.new_full((1, ), float(flat.shape[0]))
        stats = torch.cat([flat.sum(0), (flat * flat).sum(0), count])
        stats = all_reduce(stats)
        total = stats[-1]
        mean = stats[:self.num_features] / total
        var = (stats[self.num_features:-1] / total - mean * mean).clamp_min(0)
        with torch.no_grad():
            unbiased = var * (total / (total - 1).clamp_min(1))
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(unbiased, self.momentum)
            self.num_batches_tracked.add_(1)
        inv_std = torch.rsqrt(var + self.eps)
        return (flat - mean) * (inv_std * self.weight) + self.bias

    def extra_repr(self) -> str:
        return (f'{self.num_features}, eps={self.eps}, '
                f'momentum={self.momentum}, sync={self.sync}')
