# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch
from mmselfsup.evaluation.functional import knn_eval

from mmsim.evaluation import knn_accuracy, knn_classify


def _naive_knn(train, labels, queries, num_classes, k, temperature):
    """Per query: cosine to every train row, k best vote exp(cos / T)."""
    predictions = []
    for query in queries:
        cos = torch.stack([
            torch.dot(query, row) / (query.norm() * row.norm())
            for row in train
        ])
        best = sorted(range(len(train)), key=lambda i: -cos[i].item())[:k]
        votes = [0.] * num_classes
        for i in best:
            votes[int(labels[i])] += torch.exp(cos[i] / temperature).item()
        predictions.append(max(range(num_classes), key=lambda c: votes[c]))
    return torch.tensor(predictions)


def _clusters(num, num_classes, dim, noise, generator):
    """Noisy points around centres fixed by (num_classes, dim)."""
    labels = torch.arange(num) % num_classes
    centres = torch.randn(
        num_classes, dim, generator=torch.Generator().manual_seed(0))
    feats = centres[labels] + noise * torch.randn(
        num, dim, generator=generator)
    return feats, labels


@pytest.mark.parametrize('k', [1, 5, 20])
def test_matches_a_naive_vote(k):
    gen = torch.Generator().manual_seed(1)
    train, labels = _clusters(60, 4, 8, 2.0, gen)
    queries, _ = _clusters(25, 4, 8, 2.0, gen)
    pred = knn_classify(train, labels, queries, 4, k=k, temperature=0.1)
    assert torch.equal(pred, _naive_knn(train, labels, queries, 4, k, 0.1))


def test_top1_matches_mmselfsup_knn_eval():
    gen = torch.Generator().manual_seed(2)
    train, labels = _clusters(400, 10, 16, 1.5, gen)
    queries, query_labels = _clusters(200, 10, 16, 1.5, gen)
    ours = knn_accuracy(train, labels, queries, query_labels, 10, 20, 0.07)
    theirs, _ = knn_eval(train, labels, queries, query_labels, 20, 0.07, 10)
    assert 30. < ours < 100.  # a task neither trivial nor hopeless
    assert ours == pytest.approx(theirs, abs=1e-4)


def test_few_queries_and_k_above_n():
    # mmselfsup's knn_eval divides the queries into M // 100 sized chunks
    # and fails below 100 queries; ours does not, and caps k at N.
    train = torch.tensor([[1., 0.], [0., 1.], [0.9, 0.1]])
    labels = torch.tensor([0, 1, 0])
    queries = torch.tensor([[1., 0.05], [0.05, 1.]])
    pred = knn_classify(train, labels, queries, 2, k=50, temperature=0.07)
    assert pred.tolist() == [0, 1]
    assert knn_accuracy(train, labels, queries, torch.tensor([0, 0]),
                        2) == pytest.approx(50.)


def test_scale_invariant_and_chunked():
    gen = torch.Generator().manual_seed(3)
    train, labels = _clusters(50, 3, 6, 1.5, gen)
    queries, _ = _clusters(30, 3, 6, 1.5, gen)
    pred = knn_classify(train, labels, queries, 3)
    assert torch.equal(
        pred, knn_classify(train * 7., labels, queries * 0.3, 3, chunk_size=4))


@pytest.mark.parametrize('kwargs, match', [
    (dict(train_feats=torch.zeros(3)), '2-D'),
    (dict(train_labels=torch.zeros(2)), 'labels'),
    (dict(query_feats=torch.zeros(2, 5)), 'widths'),
    (dict(k=0), 'k >= 1'),
    (dict(temperature=0.), 'temperature'),
])
def test_bad_input_raises(kwargs, match):
    args = dict(
        train_feats=torch.zeros(3, 4),
        train_labels=torch.zeros(3),
        query_feats=torch.zeros(2, 4),
        num_classes=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        knn_classify(**args)
