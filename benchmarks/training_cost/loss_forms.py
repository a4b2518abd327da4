# Copyright (c) mmsim contributors. All rights reserved.
"""Dense losses over M rows: mmsim's row-wise UniGrad against M x M forms.

- ``rowwise``: ``mmsim.models.losses.unigrad_loss`` (negative term
  ``mean_m P_m F P_m^T`` with F = Z^T Z / M of shape (D, D)).
- ``mxm``: the same loss with the negative term taken, as the authors'
  release does, from the diagonal of the full (M, M) matrix P F P^T.
- ``infonce``: a dense InfoNCE over the same rows (M x M cosine logits at
  temperature 0.2, cross-entropy against the matching row).
"""
import time
from typing import Callable, Dict

import torch
import torch.nn.functional as F

from mmsim.models.losses import (target_correlation, unigrad_loss,
                                 unigrad_positive)
from .memory import current_rss_mib, peak_rss_mib, reset_peak_rss


def unigrad_loss_mxm(pred: torch.Tensor,
                     target: torch.Tensor,
                     neg_weight: float = 0.02) -> torch.Tensor:
    """UniGrad with the negative term through an (M, M) matrix.

    Args:
        pred (torch.Tensor): (M, D).
        target (torch.Tensor): (M, D), already normalised.
        neg_weight (float): ``lambda``.

    Returns:
        torch.Tensor: Scalar, equal to :func:`unigrad_loss`.
    """
    corr = target_correlation(target)
    negative = torch.diagonal(pred @ corr @ pred.t()).mean()
    positive = unigrad_positive(pred, target)
    return (positive + neg_weight * negative) / pred.shape[1]


def dense_infonce(pred: torch.Tensor,
                  target: torch.Tensor,
                  temperature: float = 0.2) -> torch.Tensor:
    """InfoNCE of every row against all rows.

    Args:
        pred (torch.Tensor): (M, D).
        target (torch.Tensor): (M, D); row m is pred row m's positive.
        temperature (float): Logit temperature.

    Returns:
        torch.Tensor: Scalar.
    """
    logits = F.normalize(pred, dim=1) @ F.normalize(target, dim=1).t()
    labels = torch.arange(pred.shape[0], device=pred.device)
    return F.cross_entropy(logits / temperature, labels)


LOSS_FORMS: Dict[str, Callable] = {
    'rowwise': unigrad_loss,
    'mxm': unigrad_loss_mxm,
    'infonce': dense_infonce,
}

#: Display names.
LOSS_NAMES: Dict[str, str] = {
    'rowwise': 'UniGrad, row-wise (mmsim)',
    'mxm': 'UniGrad, M x M (release form)',
    'infonce': 'InfoNCE, M x M logits',
}


def measure_loss(form: str, rows: int, dim: int = 768, seed: int = 0) -> Dict:
    """Forward + backward of one dense loss; time and extra peak memory.

    The extra peak is the process's peak RSS during the call minus its RSS
    just before it (inputs already allocated); run it in a fresh process.

    Args:
        form (str): A key of :data:`LOSS_FORMS`.
        rows (int): ``M``.
        dim (int): ``D``.
        seed (int): Torch seed.

    Returns:
        dict: ``time_s``, ``extra_mib``, ``loss``.
    """
    if form not in LOSS_FORMS:
        raise KeyError(f'unknown loss form {form!r}; expected one of '
                       f'{sorted(LOSS_FORMS)}')
    generator = torch.Generator().manual_seed(seed)
    pred = torch.randn(rows, dim, generator=generator).requires_grad_()
    target = F.layer_norm(torch.randn(rows, dim, generator=generator), (dim, ))
    before = current_rss_mib()
    exact = reset_peak_rss()
    start = time.perf_counter()
    loss = LOSS_FORMS[form](pred, target)
    loss.backward()
    elapsed = time.perf_counter() - start
    extra = peak_rss_mib() - before
    return dict(
        form=form,
        rows=rows,
        dim=dim,
        time_s=elapsed,
        extra_mib=extra,
        exact_peak=exact,
        loss=float(loss),
        grad_norm=float(pred.grad.norm()))
