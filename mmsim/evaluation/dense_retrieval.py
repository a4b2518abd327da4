# Copyright (c) mmsim contributors. All rights reserved.
"""Dense nearest-neighbour retrieval ("Hummingbird", Balazevic et al.,
arXiv 2306.01667): how well frozen patch tokens segment without training.

The memory holds every training patch token (L2-normalised) with the class
histogram of its patch (the fraction of its pixels of each class). Each
query token takes its k most cosine-similar memory tokens and mixes their
histograms with weights ``softmax(cosine / temperature)`` over the k. The
(C, h, w) mixtures of an image are upsampled bilinearly
(``align_corners=False``) to the label map's size, the argmax per pixel is
the prediction, scored by per-pixel mIoU (:func:`mean_iou`).

References beside the methods (dense-measures note):

- ceiling: :func:`oracle_miou`, each query patch given its own true
  histogram. Below 100 % where three patches around a corner share a class
  other than the fourth's: bilinear weights give the corner pixel's own
  patch 0.5625 ** 2 of the mass (for even patch sizes).
- floor: :func:`retrieval_miou` on raw pixels, the features being
  :func:`pixel_patch_features` of the images.
- Vanyan et al. (arXiv 2401.00463): a few high-variance dimensions spoil
  the search; ``standardise_features=True`` (:func:`standardise`) divides
  them out. Report both.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from .dense_probe import confusion_matrix, mean_iou


def _patch_size(height: int, width: int, grid: Tuple[int, int],
                what: str) -> Tuple[int, int]:
    if grid[0] < 1 or grid[1] < 1 or height % grid[0] or width % grid[1]:
        raise ValueError(f'{what} of size {height}x{width} do not split '
                         f'into a {grid[0]}x{grid[1]} grid of equal patches')
    return height // grid[0], width // grid[1]


def _check_labels(labels: torch.Tensor, num_classes: int,
                  ignore_index: Optional[int]) -> None:
    if labels.dim() != 3 or labels.is_floating_point():
        raise ValueError('label maps must be an (N, H, W) integer tensor, '
                         f'got {labels.dtype} of shape {tuple(labels.shape)}')
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if bad.any():
        raise ValueError(f'label {int(labels[bad][0])} lies outside [0, '
                         f'{num_classes})' +
                         (f' and is not {ignore_index}'
                          if ignore_index is not None else ''))


def _as_float(tensor: torch.Tensor) -> torch.Tensor:
    """float64 stays float64, anything else becomes float32."""
    return tensor if tensor.dtype == torch.float64 else tensor.float()


def patch_class_histograms(label_maps: torch.Tensor,
                           grid: Tuple[int, int],
                           num_classes: int,
                           ignore_index: Optional[int] = None) -> torch.Tensor:
    """The fraction of each patch's pixels of each class.

    Args:
        label_maps (torch.Tensor): (N, H, W) integer labels in
            ``[0, num_classes)`` or ``ignore_index``.
        grid (tuple[int, int]): Patch grid (h, w); h must divide H and w W.
        num_classes (int): Number of classes C.
        ignore_index (int, optional): Label left out of the counts. A patch
            of ignored pixels only gets a zero row. Defaults to None.

    Returns:
        torch.Tensor: (N, h, w, C) float32, rows summing to 1.
    """
    _check_labels(label_maps, num_classes, ignore_index)
    num, height, width = label_maps.shape
    ph, pw = _patch_size(height, width, grid, 'label maps')
    rows = torch.arange(num).view(-1, 1, 1) * grid[0] + (
        torch.arange(height) // ph).view(1, -1, 1)
    patch = rows * grid[1] + (torch.arange(width) // pw).view(1, 1, -1)
    labels = label_maps.long()
    if ignore_index is not None:  # an extra bin, dropped below
        labels = torch.where(labels == ignore_index, num_classes, labels)
    bins = num_classes + 1
    counts = torch.bincount(
        (patch * bins + labels).reshape(-1),
        minlength=num * grid[0] * grid[1] * bins).view(-1, bins)
    counts = counts[:, :num_classes].float()
    hists = counts / counts.sum(1, keepdim=True).clamp(min=1)
    return hists.view(num, grid[0], grid[1], num_classes)


def pixel_patch_features(images: torch.Tensor,
                         grid: Tuple[int, int]) -> torch.Tensor:
    """Raw pixels of each patch as its feature (the retrieval floor).

    Args:
        images (torch.Tensor): (N, 3, H, W) images (any numeric dtype).
        grid (tuple[int, int]): Patch grid (h, w); h must divide H and w W.

    Returns:
        torch.Tensor: (N, h, w, 3 * ph * pw) float32, a patch's pixels
        flattened in (channel, row, column) order, ph = H / h, pw = W / w.
    """
    if images.dim() != 4:
        raise ValueError('images must be (N, 3, H, W), got shape '
                         f'{tuple(images.shape)}')
    num, channels, height, width = images.shape
    ph, pw = _patch_size(height, width, grid, 'images')
    patches = images.float().reshape(num, channels, grid[0], ph, grid[1], pw)
    return patches.permute(0, 2, 4, 1, 3, 5).reshape(num, grid[0], grid[1],
                                                     channels * ph * pw)


def standardise(memory: torch.Tensor,
                queries: torch.Tensor,
                eps: float = 1e-6) -> Tuple[torch.Tensor, torch.Tensor]:
    """Standardise both sets per dimension with the memory's statistics.

    Args:
        memory (torch.Tensor): (T, D) memory features.
        queries (torch.Tensor): (M, D) query features.
        eps (float): Floor of the (population) standard deviation, so
            constant dimensions become 0. Defaults to 1e-6.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: (T, D) and (M, D) features,
        ``(x - mean) / std``; the memory has mean 0 and std 1 in every
        dimension that is not constant (those become 0).
    """
    memory, queries = _as_float(memory), _as_float(queries)
    mean = memory.mean(0)
    std = memory.std(0, unbiased=False).clamp(min=eps)
    return (memory - mean) / std, (queries - mean) / std


@torch.no_grad()
def dense_nn_retrieval(memory_feats: torch.Tensor,
                       memory_hists: torch.Tensor,
                       query_feats: torch.Tensor,
                       k: int = 30,
                       temperature: float = 0.02,
                       chunk_size: int = 256) -> torch.Tensor:
    """Each query's mixture of its k nearest memory tokens' histograms.

    Args:
        memory_feats (torch.Tensor): (T, D) memory tokens.
        memory_hists (torch.Tensor): (T, C) their class histograms.
        query_feats (torch.Tensor): (M, D) query tokens.
        k (int): Neighbours mixed, capped at T (as :func:`knn_classify`).
            Defaults to 30.
        temperature (float): Weights ``softmax(cosine / temperature)`` over
            the k neighbours. Defaults to 0.02.
        chunk_size (int): Queries per similarity block, bounding memory at
            ``chunk_size * T`` floats. Defaults to 256.

    Returns:
        torch.Tensor: (M, C) label distributions (rows sum to 1 where the
        histograms do), float64 if ``memory_feats`` is float64, else
        float32.
    """
    if memory_feats.dim() != 2 or query_feats.dim() != 2 \
            or memory_hists.dim() != 2:
        raise ValueError('expected (T, D) memory, (T, C) histograms and '
                         f'(M, D) queries, got {tuple(memory_feats.shape)}, '
                         f'{tuple(memory_hists.shape)} and '
                         f'{tuple(query_feats.shape)}')
    if memory_feats.shape[0] != memory_hists.shape[0] \
            or memory_feats.shape[0] == 0:
        raise ValueError(f'{memory_feats.shape[0]} memory tokens but '
                         f'{memory_hists.shape[0]} histograms (need >= 1)')
    if memory_feats.shape[1] != query_feats.shape[1]:
        raise ValueError('feature widths differ: memory '
                         f'{memory_feats.shape[1]}, query '
                         f'{query_feats.shape[1]}')
    if k < 1 or temperature <= 0 or chunk_size < 1:
        raise ValueError('need k >= 1, temperature > 0 and chunk_size >= 1, '
                         f'got {k}, {temperature} and {chunk_size}')
    memory = F.normalize(_as_float(memory_feats), dim=1)
    hists = memory_hists.to(memory.dtype)
    k = min(k, memory.shape[0])
    out = [hists.new_zeros(0, hists.shape[1])]
    for query in F.normalize(_as_float(query_feats), dim=1).split(chunk_size):
        similarity, index = (query.to(memory.dtype) @ memory.t()).topk(k)
        weights = (similarity / temperature).softmax(dim=1)
        out.append(torch.einsum('mk,mkc->mc', weights, hists[index]))
    return torch.cat(out)


def _upsampled_scores(dists: torch.Tensor,
                      labels: torch.Tensor,
                      num_classes: int,
                      ignore_index: Optional[int],
                      batch: int = 16) -> Dict[str, object]:
    """mIoU of (N, h, w, C) patch distributions upsampled to (N, H, W)."""
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for start in range(0, dists.shape[0], batch):
        part = dists[start:start + batch].permute(0, 3, 1, 2)
        target = labels[start:start + batch]
        pred = F.interpolate(
            part, size=target.shape[-2:], mode='bilinear',
            align_corners=False).argmax(dim=1)
        confusion += confusion_matrix(
            pred, target, num_classes,
            -1 if ignore_index is None else ignore_index)
    miou, iou = mean_iou(confusion)
    accuracy = float(confusion.diag().sum()) / max(int(confusion.sum()), 1)
    return dict(
        mIoU=miou,
        accuracy=100 * accuracy,
        per_class_iou=iou,
        confusion=confusion)


def retrieval_miou(memory_feats: torch.Tensor,
                   memory_labels: torch.Tensor,
                   query_feats: torch.Tensor,
                   query_labels: torch.Tensor,
                   num_classes: int,
                   k: int = 30,
                   temperature: float = 0.02,
                   standardise_features: bool = False,
                   ignore_index: Optional[int] = None,
                   chunk_size: int = 256) -> Dict[str, object]:
    """Dense nearest-neighbour retrieval scored by per-pixel mIoU.

    Memory patches whose pixels are all ``ignore_index`` are left out of
    the memory; ignored query pixels are left out of the scores.

    Args:
        memory_feats (torch.Tensor): (N1, h, w, D) training patch tokens.
        memory_labels (torch.Tensor): (N1, H, W) their label maps.
        query_feats (torch.Tensor): (N2, h, w, D) query patch tokens.
        query_labels (torch.Tensor): (N2, H, W) their label maps.
        num_classes (int): Number of classes C.
        k (int): Neighbours, capped at the memory size. Defaults to 30.
        temperature (float): Softmax temperature. Defaults to 0.02.
        standardise_features (bool): Apply :func:`standardise` before the
            search. Defaults to False.
        ignore_index (int, optional): Label left out. Defaults to None.
        chunk_size (int): Queries per similarity block. Defaults to 256.

    Returns:
        dict: ``mIoU`` and ``accuracy`` (float, %), ``per_class_iou`` ((C,)
        tensor, %, NaN for a class in neither the prediction nor the truth,
        which the mean leaves out), ``confusion`` ((C, C) pixel counts,
        rows = truth).
    """
    if memory_feats.dim() != 4 or query_feats.dim() != 4 \
            or memory_feats.shape[1:3] != query_feats.shape[1:3]:
        raise ValueError('expected (N, h, w, D) features on one grid, got '
                         f'{tuple(memory_feats.shape)} and '
                         f'{tuple(query_feats.shape)}')
    for feats, labels, what in ((memory_feats, memory_labels, 'memory'),
                                (query_feats, query_labels, 'query')):
        if feats.shape[0] != labels.shape[0]:
            raise ValueError(f'{feats.shape[0]} {what} feature maps but '
                             f'{labels.shape[0]} label maps')
    grid = tuple(memory_feats.shape[1:3])
    _check_labels(query_labels, num_classes, ignore_index)
    _patch_size(*query_labels.shape[-2:], grid, 'query label maps')
    hists = patch_class_histograms(memory_labels, grid, num_classes,
                                   ignore_index).reshape(-1, num_classes)
    memory = memory_feats.reshape(-1, memory_feats.shape[-1])
    queries = query_feats.reshape(-1, query_feats.shape[-1])
    if standardise_features:
        memory, queries = standardise(memory, queries)
    keep = hists.sum(1) > 0
    dists = dense_nn_retrieval(memory[keep], hists[keep], queries, k,
                               temperature, chunk_size)
    dists = dists.reshape(*query_feats.shape[:3], num_classes)
    return _upsampled_scores(dists, query_labels, num_classes, ignore_index)


def oracle_miou(query_labels: torch.Tensor,
                grid: Tuple[int, int],
                num_classes: int,
                ignore_index: Optional[int] = None) -> Dict[str, object]:
    """The retrieval ceiling: each query patch predicted by its own true
    histogram, upsampled and scored as in :func:`retrieval_miou`.

    Args:
        query_labels (torch.Tensor): (N, H, W) label maps.
        grid (tuple[int, int]): Patch grid (h, w) of the features.
        num_classes (int): Number of classes C.
        ignore_index (int, optional): Label left out. Defaults to None.

    Returns:
        dict: as :func:`retrieval_miou`.
    """
    hists = patch_class_histograms(query_labels, grid, num_classes,
                                   ignore_index)
    return _upsampled_scores(hists, query_labels, num_classes, ignore_index)
