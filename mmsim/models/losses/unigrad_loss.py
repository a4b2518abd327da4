# Copyright (c) mmsim contributors. All rights reserved.
"""UniGrad, the loss of the SIM paper, as small term functions.

For rows ``P`` (predictions) and ``Z`` (normalised targets) of shape
(M, D)::

    pos  = mean_m ||P_m - Z_m||^2
    F    = Z^T Z / M           (over the rows of all processes)
    neg  = mean_m P_m F P_m^T  (row-wise: O(M D + D^2) memory, no M x M)
    loss = (pos + lambda * neg) / D
"""
import torch
import torch.distributed as dist


def unigrad_positive(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared distance between matching rows.

    Args:
        pred (torch.Tensor): Predictions of shape (M, D).
        target (torch.Tensor): Targets of shape (M, D).

    Returns:
        torch.Tensor: Scalar.
    """
    return (pred - target).pow(2).sum(dim=1).mean()


def target_correlation(target: torch.Tensor) -> torch.Tensor:
    """``F = Z^T Z / M``, over every process's rows when distributed.

    Sums ``Z^T Z`` and the row counts across processes in one all-reduce,
    so F is the matrix of the concatenated rows (equal to the mean of the
    per-process matrices when all processes hold the same number of rows).
    F is a statistic of the targets and carries no gradient.

    Args:
        target (torch.Tensor): Targets of shape (M, D).

    Returns:
        torch.Tensor: Matrix of shape (D, D).
    """
    target = target.detach()
    corr = target.t() @ target
    rows = target.shape[0]
    if dist.is_available() and dist.is_initialized() and \
            dist.get_world_size() > 1:
        packed = torch.cat([corr.flatten(), corr.new_full((1, ), rows)])
        dist.all_reduce(packed)
        corr = packed[:-1].view_as(corr)
        rows = packed[-1]
    return corr / rows


def unigrad_negative(pred: torch.Tensor, corr: torch.Tensor) -> torch.Tensor:
    """``mean_m P_m F P_m^T``, computed row-wise.

    Args:
        pred (torch.Tensor): Predictions of shape (M, D).
        corr (torch.Tensor): Target correlation F of shape (D, D).

    Returns:
        torch.Tensor: Scalar.
    """
    return ((pred @ corr) * pred).sum(dim=1).mean()


def unigrad_loss(pred: torch.Tensor,
                 target: torch.Tensor,
                 neg_weight: float = 0.02) -> torch.Tensor:
    """UniGrad of matching rows, in fp32.

    Args:
        pred (torch.Tensor): Predictions of shape (M, D).
        target (torch.Tensor): Already-normalised targets of shape (M, D).
        neg_weight (float): ``lambda``. Defaults to 0.02.

    Returns:
        torch.Tensor: Scalar ``(pos + lambda * neg) / D``.

    Examples:
        >>> pred, target = torch.randn(392, 64), torch.randn(392, 64)
        >>> unigrad_loss(pred, target).shape
        torch.Size([])
    """
    if pred.dim() != 2 or pred.shape != target.shape:
        raise ValueError('unigrad_loss takes two (M, D) tensors of the same '
                         f'shape, got {tuple(pred.shape)} and '
                         f'{tuple(target.shape)}')
    with torch.autocast(device_type=pred.device.type, enabled=False):
        pred, target = pred.float(), target.float()
        positive = unigrad_positive(pred, target)
        negative = unigrad_negative(pred, target_correlation(target))
        return (positive + neg_weight * negative) / pred.shape[1]
