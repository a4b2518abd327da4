# Copyright (c) mmsim contributors. All rights reserved.
"""Frozen, pooled backbone features of a labelled dataset, DDP-correct.

Used by the kNN monitor, the offline evaluation tools and the replay
benchmark. The feature is the global average of the patch tokens (spec
section 5), for any ``VisionTransformer`` subclass of the host (mmcls's or
mmpretrain's: SIMViT, MAEViT, MoCoV3ViT, ...), and the global average of
the last feature map for convolutional backbones.
"""
from typing import Callable, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine import dist
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader

from ..hosts import host
from .progress import RankZeroProgress, loader_length


@torch.no_grad()
def backbone_feature_map(backbone: nn.Module,
                         images: torch.Tensor) -> torch.Tensor:
    """The last feature map of a batch of normalised images.

    ViTs run the host's plain ``VisionTransformer.forward`` (whatever the
    subclass's own pre-training forward does, e.g. MAEViT's random masking),
    so every ViT is read the same way: all patches, its own final norm if it
    has one, the patch tokens on their grid (the class token is left out).

    Args:
        backbone (nn.Module): The host's ``VisionTransformer`` (or subclass),
            or any backbone returning a sequence of (B, C, H, W) maps.
        images (torch.Tensor): (B, 3, H, W) normalised images.

    Returns:
        torch.Tensor: (B, C, h, w) float32 features.
    """
    if isinstance(backbone, host().VisionTransformer):
        return host().vit_patch_map(backbone, images).float()
    outs = backbone(images)
    last = outs[-1] if isinstance(outs, Sequence) else outs
    if last.dim() == 3:  # (B, 1 + N, C) tokens with the class token first
        tokens = last[:, 1:]
        side = int(round(tokens.shape[1]**0.5))
        if side * side != tokens.shape[1]:
            raise ValueError(f'cannot lay {tokens.shape[1]} patch tokens on '
                             'a square grid')
        last = tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2],
                                              side, side)
    if last.dim() != 4:
        raise ValueError('cannot read a feature map from a backbone output '
                         f'of shape {tuple(last.shape)}; expected (B, C, H, '
                         'W) maps or (B, 1 + N, C) tokens')
    return last.float()


@torch.no_grad()
def pooled_backbone_features(backbone: nn.Module,
                             images: torch.Tensor) -> torch.Tensor:
    """Average-pooled features of a batch of normalised images: the mean
    of :func:`backbone_feature_map` (for a ViT, of its patch tokens).

    Args:
        backbone (nn.Module): The host's ``VisionTransformer`` (or subclass),
            or any backbone returning a sequence of (B, C, H, W) maps.
        images (torch.Tensor): (B, 3, H, W) normalised images.

    Returns:
        torch.Tensor: (B, C) float32 features.
    """
    return backbone_feature_map(backbone, images).mean(dim=(2, 3))


def get_backbone(model: nn.Module, backbone_name: str) -> nn.Module:
    """The submodule at a dotted path, e.g. ``'target.module.backbone'``,
    with an error naming the missing part."""
    backbone = model
    for name in backbone_name.split('.'):
        if not hasattr(backbone, name):
            raise AttributeError(f'{type(model).__name__} has no '
                                 f'{backbone_name!r} (missing {name!r})')
        backbone = getattr(backbone, name)
    return backbone


def normalise_images(model: nn.Module, batch: dict) -> torch.Tensor:
    """(B, 3, H, W) images through the model's own data preprocessor.

    The host's ``normalise_images``: mmselfsup's and mmpretrain's
    self-supervised preprocessors take a list of views, mmcls's (and
    mmengine's) a batch tensor.
    """
    images = batch['inputs']
    if not isinstance(images, torch.Tensor):  # pseudo-collated samples
        images = torch.stack(list(images))
    return host().normalise_images(model.data_preprocessor, images)


def _labels_and_indices(data_samples: Sequence) -> Tuple[torch.Tensor, ...]:
    labels, indices = [], []
    for sample in data_samples:
        label = sample.gt_label.label if hasattr(sample.gt_label, 'label') \
            else sample.gt_label
        labels.append(int(torch.as_tensor(label).reshape(-1)[0]))
        if 'sample_idx' not in sample.metainfo:
            raise KeyError('feature extraction needs `sample_idx` in the '
                           "samples' metainfo (mmcls PackClsInputs keeps it "
                           'by default)')
        indices.append(int(sample.metainfo['sample_idx']))
    return torch.tensor(labels), torch.tensor(indices)


def gather_padded(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate a (n_r, ...) tensor over ranks, n_r may differ."""
    sizes = dist.all_gather(torch.tensor([tensor.shape[0]]))
    longest = int(max(s.item() for s in sizes))
    padded = tensor.new_zeros((longest, ) + tuple(tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    parts = dist.all_gather(padded)
    return torch.cat([p[:int(s.item())] for p, s in zip(parts, sizes)])


@torch.no_grad()
def extract_pooled_features(
        model: nn.Module,
        dataloader: DataLoader,
        backbone_name: str = 'backbone',
        progress: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pooled frozen features and labels of a whole labelled dataset.

    Each process extracts its shard; the shards are gathered on every
    process and put back in dataset order by ``sample_idx`` (duplicates that
    a padding sampler adds are dropped), so every rank returns the same
    tensors as a single process would.

    Args:
        model (nn.Module): An mmengine model (DDP-wrapped or not) with a
            ``data_preprocessor`` and the backbone at ``backbone_name``.
        dataloader (DataLoader): Yields mmengine batches whose samples carry
            ``gt_label`` and ``sample_idx`` (mmcls ``PackClsInputs``).
        backbone_name (str): Dotted attribute path of the backbone, e.g.
            ``'target.module.backbone'`` for SIM's momentum target.
            Defaults to ``'backbone'``.
        progress (bool): Print a ``done/total`` bar of the images with an
            ETA on rank 0 (``mmsim.evaluation.progress``). Defaults to
            False (the online monitor's choice: no bars in training logs);
            the offline tools turn it on.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: (N, C) float32 features and (N,)
        int64 labels, N = len(dataloader.dataset), in dataset order.
    """
    if is_model_wrapper(model):
        model = model.module
    backbone = get_backbone(model, backbone_name)
    was_training = backbone.training
    backbone.eval()

    def pooled(batch: dict) -> torch.Tensor:
        batch = model.data_preprocessor.cast_data(batch)
        return pooled_backbone_features(backbone,
                                        normalise_images(model, batch))

    try:
        return _features_in_order(dataloader, pooled, 'pooled features',
                                  progress)
    finally:
        backbone.train(was_training)


def _features_in_order(dataloader: DataLoader,
                       features: Callable[[dict], torch.Tensor], what: str,
                       progress: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """``features`` of every batch of ``dataloader`` (a (B, C) tensor a
    batch) with the samples' labels, gathered in dataset order (see
    :func:`in_dataset_order`); a progress bar named ``what``."""
    feats, labels, indices = [], [], []
    total = loader_length(dataloader)
    bar = RankZeroProgress(total, progress, desc=f'{what} of {total} images')
    try:
        for batch in dataloader:
            feats.append(features(batch).cpu())
            batch_labels, batch_indices = _labels_and_indices(
                batch['data_samples'])
            labels.append(batch_labels)
            indices.append(batch_indices)
            bar.update(len(batch_indices))
    finally:
        bar.close()
    return in_dataset_order(
        torch.cat(feats), torch.cat(labels), torch.cat(indices))


def in_dataset_order(
        feats: torch.Tensor, labels: torch.Tensor,
        indices: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gather every process's shard and sort it into dataset order.

    Args:
        feats (torch.Tensor): (n, D) features of this process's samples.
        labels (torch.Tensor): (n,) their labels.
        indices (torch.Tensor): (n,) their ``sample_idx``.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: (N, D) features and (N,) labels
        of the whole dataset, sorted by ``sample_idx``, the duplicates a
        padding sampler adds dropped.
    """
    if dist.get_world_size() > 1:
        device = dist.get_comm_device()
        feats, labels, indices = (
            gather_padded(t.to(device)).cpu()
            for t in (feats, labels, indices))
    order = indices.argsort(stable=True)
    indices, feats, labels = indices[order], feats[order], labels[order]
    keep = torch.ones_like(indices, dtype=torch.bool)
    keep[1:] = indices[1:] != indices[:-1]
    return feats[keep], labels[keep]


def extract_pixel_features(
        dataloader: DataLoader,
        progress: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """The raw pixels of a whole labelled dataset, flattened: the
    baseline that :func:`extract_pooled_features` is read against.

    The images are the loader's own (after its pipeline's resize and crop,
    before any model normalisation), so a kNN of these features on the
    monitor's splits scores what the pixels alone already tell apart.
    DDP-correct as :func:`extract_pooled_features`.

    Args:
        dataloader (DataLoader): Yields mmengine batches of (3, H, W)
            uint8 images (one size) whose samples carry ``gt_label`` and
            ``sample_idx``.
        progress (bool): Print a ``done/total`` bar on rank 0. Defaults to
            False.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: (N, 3 * H * W) uint8 pixels and
        (N,) int64 labels, in dataset order.
    """

    def pixels(batch: dict) -> torch.Tensor:
        images = batch['inputs']
        if not isinstance(images, torch.Tensor):  # pseudo-collated
            images = torch.stack(list(images))
        return images.reshape(images.shape[0], -1)

    return _features_in_order(dataloader, pixels, 'pixels', progress)
