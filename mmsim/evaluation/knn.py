# Copyright (c) mmsim contributors. All rights reserved.
"""Weighted k-nearest-neighbour classification of frozen features.

The protocol of Wu et al. (CVPR 2018) as mmselfsup and DINO use it: cosine
similarity, the k most similar training features vote for their label with
weight ``exp(similarity / temperature)``. Our own function because
mmselfsup's ``knn_eval`` splits the queries into ``M // 100`` rows per chunk
(a zero step, hence an error, for fewer than 100 queries) and returns only
aggregate accuracies, where the monitor and the replay need predictions on
small validation splits.
"""
import torch
import torch.nn.functional as F


@torch.no_grad()
def knn_classify(train_feats: torch.Tensor,
                 train_labels: torch.Tensor,
                 query_feats: torch.Tensor,
                 num_classes: int,
                 k: int = 20,
                 temperature: float = 0.07,
                 chunk_size: int = 1024) -> torch.Tensor:
    """Predict labels of queries by a similarity-weighted vote of neighbours.

    Args:
        train_feats (torch.Tensor): (N, D) features of the labelled set.
        train_labels (torch.Tensor): (N,) integer labels in
            ``[0, num_classes)``.
        query_feats (torch.Tensor): (M, D) features to classify.
        num_classes (int): Number of classes.
        k (int): Neighbours that vote; capped at N. Defaults to 20.
        temperature (float): Vote weight ``exp(cos / temperature)``.
            Defaults to 0.07.
        chunk_size (int): Queries per similarity block, bounding memory at
            ``chunk_size * N`` floats. Defaults to 1024.

    Returns:
        torch.Tensor: (M,) int64 predicted labels (ties go to the lower
        label).
    """
    if train_feats.dim() != 2 or query_feats.dim() != 2:
        raise ValueError('knn_classify expects 2-D (N, D) and (M, D) '
                         f'features, got {tuple(train_feats.shape)} and '
                         f'{tuple(query_feats.shape)}')
    if train_feats.shape[0] != train_labels.shape[0]:
        raise ValueError(f'{train_feats.shape[0]} training features but '
                         f'{train_labels.shape[0]} labels')
    if train_feats.shape[1] != query_feats.shape[1]:
        raise ValueError(f'feature widths differ: train {train_feats.shape[1]}'
                         f', query {query_feats.shape[1]}')
    if k < 1 or temperature <= 0:
        raise ValueError(f'need k >= 1 and temperature > 0, got k={k}, '
                         f'temperature={temperature}')
    train = F.normalize(train_feats.float(), dim=1)
    labels = train_labels.long()
    k = min(k, train.shape[0])
    predictions = []
    for query in F.normalize(query_feats.float(), dim=1).split(chunk_size):
        similarity, index = (query @ train.t()).topk(k, dim=1)
        votes = query.new_zeros(query.shape[0], num_classes)
        votes.scatter_add_(1, labels[index], (similarity / temperature).exp())
        predictions.append(votes.argmax(dim=1))
    if not predictions:
        return torch.zeros(0, dtype=torch.long)
    return torch.cat(predictions)


def knn_accuracy(train_feats: torch.Tensor,
                 train_labels: torch.Tensor,
                 query_feats: torch.Tensor,
                 query_labels: torch.Tensor,
                 num_classes: int,
                 k: int = 20,
                 temperature: float = 0.07) -> float:
    """Top-1 accuracy (%) of :func:`knn_classify` on labelled queries.

    Args:
        train_feats (torch.Tensor): (N, D) features of the labelled set.
        train_labels (torch.Tensor): (N,) labels.
        query_feats (torch.Tensor): (M, D) query features, M >= 1.
        query_labels (torch.Tensor): (M,) true labels of the queries.
        num_classes (int): Number of classes.
        k (int): Neighbours that vote. Defaults to 20.
        temperature (float): Vote temperature. Defaults to 0.07.

    Returns:
        float: Top-1 accuracy in percent.
    """
    if query_feats.shape[0] == 0:
        raise ValueError('knn_accuracy needs at least one query')
    pred = knn_classify(train_feats, train_labels, query_feats, num_classes, k,
                        temperature)
    return (pred == query_labels.long()).float().mean().item() * 100.
