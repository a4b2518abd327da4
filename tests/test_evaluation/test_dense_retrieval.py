# Copyright (c) mmsim contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmsim.evaluation import (dense_nn_retrieval, oracle_miou,
                              patch_class_histograms, pixel_patch_features,
                              retrieval_miou, standardise)

GRID = (4, 4)
PATCH = 8
SIZE = GRID[0] * PATCH  # 32x32 label maps
NUM_CLASSES = 4
DIM = 5


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _hist_by_loops(labels, grid, num_classes, ignore_index=None):
    """Count each patch's pixels class by class, one pixel at a time."""
    num, height, width = labels.shape
    ph, pw = height // grid[0], width // grid[1]
    out = np.zeros((num, grid[0], grid[1], num_classes))
    for n in range(num):
        for i in range(grid[0]):
            for j in range(grid[1]):
                counts, total = [0] * num_classes, 0
                for y in range(i * ph, (i + 1) * ph):
                    for x in range(j * pw, (j + 1) * pw):
                        label = int(labels[n, y, x])
                        if label != ignore_index:
                            counts[label] += 1
                            total += 1
                if total:
                    out[n, i, j] = [c / total for c in counts]
    return out


def _retrieval_by_loops(memory, hists, queries, k, temperature):
    """Per query: cosine to every memory row, sort, softmax over the k
    best, mix their histograms (float64 numpy)."""
    memory, hists, queries = (
        np.asarray(t, dtype=np.float64) for t in (memory, hists, queries))
    out = []
    for query in queries:
        cos = [
            float(query @ row) / (np.linalg.norm(query) * np.linalg.norm(row))
            for row in memory
        ]
        best = sorted(range(len(memory)), key=lambda t: -cos[t])[:k]
        weights = [math.exp(cos[t] / temperature) for t in best]
        mix = sum(w * hists[t] for w, t in zip(weights, best))
        out.append(mix / sum(weights))
    return np.stack(out)


def _scores_by_loops(pred, target, num_classes, ignore_index=None):
    """Per-class IoU (%) and accuracy (%) by visiting every pixel; a class
    in neither prediction nor truth gets NaN and is left out of the mean."""
    inter, union = [0] * num_classes, [0] * num_classes
    right = total = 0
    for p, t in zip(pred.reshape(-1).tolist(), target.reshape(-1).tolist()):
        if t == ignore_index:
            continue
        total += 1
        right += p == t
        for c in range(num_classes):
            inter[c] += p == c and t == c
            union[c] += p == c or t == c
    iou = [100. * i / u if u else math.nan for i, u in zip(inter, union)]
    return np.array(iou), 100. * right / total


def _random_case(seed, num_mem=3, num_query=2, num_classes=NUM_CLASSES):
    gen = _gen(seed)
    return (torch.randn(
        num_mem, *GRID, DIM, generator=gen, dtype=torch.float64),
            torch.randint(num_classes, (num_mem, SIZE, SIZE), generator=gen),
            torch.randn(
                num_query, *GRID, DIM, generator=gen, dtype=torch.float64),
            torch.randint(num_classes, (num_query, SIZE, SIZE), generator=gen))


def _row_striped(seed, num):
    """Label maps constant per patch and per patch row (no class can win a
    patch corner under bilinear upsampling, see ``test_oracle_...``)."""
    rows = torch.randint(NUM_CLASSES, (num, GRID[0]), generator=_gen(seed))
    return rows.repeat_interleave(
        PATCH, dim=1)[:, :, None].expand(num, SIZE, SIZE).contiguous()


@pytest.mark.parametrize('ignore_index', [None, 255])
def test_histograms_equal_a_loop_count(ignore_index):
    labels = torch.randint(NUM_CLASSES, (3, SIZE, SIZE), generator=_gen(0))
    if ignore_index is not None:
        labels[0, :5, :11] = ignore_index
        labels[1, :PATCH, :PATCH] = ignore_index  # a patch ignored whole
    hists = patch_class_histograms(labels, GRID, NUM_CLASSES, ignore_index)
    assert hists.shape == (3, *GRID, NUM_CLASSES)
    np.testing.assert_allclose(
        hists.numpy(),
        _hist_by_loops(labels, GRID, NUM_CLASSES, ignore_index),
        atol=1e-7)
    sums = hists.sum(-1)
    if ignore_index is not None:
        assert sums[1, 0, 0] == 0
        sums[1, 0, 0] = 1
    assert torch.allclose(sums, torch.ones_like(sums))


def test_histogram_sizes_and_labels_are_checked():
    with pytest.raises(ValueError, match='30x32 do not split into a 4x4'):
        patch_class_histograms(
            torch.zeros(1, 30, 32, dtype=torch.long), GRID, NUM_CLASSES)
    labels = torch.zeros(2, SIZE, SIZE, dtype=torch.long)
    labels[1, 3, 4] = 7
    with pytest.raises(ValueError, match=r'label 7 lies outside \[0, 4\)'):
        patch_class_histograms(labels, GRID, NUM_CLASSES)
    labels[1, 3, 4] = -1
    with pytest.raises(ValueError, match='label -1 lies outside'):
        patch_class_histograms(labels, GRID, NUM_CLASSES, ignore_index=255)
    with pytest.raises(ValueError, match='integer tensor'):
        patch_class_histograms(labels.float(), GRID, NUM_CLASSES)


@pytest.mark.parametrize('k', [1, 5, 30])
@pytest.mark.parametrize('chunk_size', [256, 7])  # 32 queries: 5 chunks
def test_retrieval_equals_a_brute_force_mixture(k, chunk_size):
    mem, mem_labels, query, _ = _random_case(1)
    memory, queries = mem.reshape(-1, DIM), query.reshape(-1, DIM)
    hists = patch_class_histograms(mem_labels, GRID,
                                   NUM_CLASSES).reshape(-1, NUM_CLASSES)
    dists = dense_nn_retrieval(
        memory, hists, queries, k=k, temperature=0.02, chunk_size=chunk_size)
    expected = _retrieval_by_loops(memory, hists, queries, k, 0.02)
    assert dists.shape == (32, NUM_CLASSES) and dists.dtype == torch.float64
    np.testing.assert_allclose(dists.numpy(), expected, atol=1e-10)
    # float32 features are searched in float32 (errors seen: <= 2.3e-7)
    dists32 = dense_nn_retrieval(
        memory.float(), hists, queries.float(), k=k, chunk_size=chunk_size)
    assert dists32.dtype == torch.float32
    np.testing.assert_allclose(dists32.numpy(), expected, atol=1e-6)


def test_k_above_the_memory_size_is_capped():
    gen = _gen(2)
    memory = torch.randn(6, DIM, generator=gen)
    queries = torch.randn(9, DIM, generator=gen)
    hists = torch.rand(6, NUM_CLASSES, generator=gen)
    hists /= hists.sum(1, keepdim=True)
    dists = dense_nn_retrieval(memory, hists, queries, k=50, temperature=0.1)
    assert torch.equal(dists, dense_nn_retrieval(memory, hists, queries, 6,
                                                 0.1))
    np.testing.assert_allclose(
        dists.numpy(),
        _retrieval_by_loops(memory, hists, queries, 6, 0.1),
        atol=1e-6)


def test_retrieval_arguments_are_checked():
    memory, hists = torch.randn(6, DIM), torch.rand(6, NUM_CLASSES)
    with pytest.raises(ValueError, match='feature widths differ'):
        dense_nn_retrieval(memory, hists, torch.randn(2, DIM + 1))
    with pytest.raises(ValueError, match='6 memory tokens but 5 histograms'):
        dense_nn_retrieval(memory, hists[:5], torch.randn(2, DIM))
    with pytest.raises(ValueError, match='need k >= 1'):
        dense_nn_retrieval(memory, hists, torch.randn(2, DIM), k=0)
    with pytest.raises(ValueError, match='temperature > 0'):
        dense_nn_retrieval(memory, hists, torch.randn(2, DIM), temperature=0)


@pytest.mark.parametrize('ignore_index', [None, 255])
def test_miou_equals_a_per_pixel_count(ignore_index):
    # 5 classes, class 4 occurs in no label map: NaN, left out of the mean
    mem, mem_labels, query, query_labels = _random_case(3)
    if ignore_index is not None:
        query_labels[0, 3:20, 5:9] = ignore_index
    result = retrieval_miou(
        mem,
        mem_labels,
        query,
        query_labels,
        NUM_CLASSES + 1,
        k=5,
        ignore_index=ignore_index)
    # the predictions: the (brute-force checked) retrieval, upsampled
    hists = patch_class_histograms(mem_labels, GRID, NUM_CLASSES + 1)
    dists = dense_nn_retrieval(
        mem.reshape(-1, DIM),
        hists.reshape(-1, NUM_CLASSES + 1),
        query.reshape(-1, DIM),
        k=5)
    dists = dists.reshape(2, *GRID, -1).permute(0, 3, 1, 2)
    pred = F.interpolate(
        dists, size=(SIZE, SIZE), mode='bilinear',
        align_corners=False).argmax(1)
    iou, accuracy = _scores_by_loops(pred, query_labels, NUM_CLASSES + 1,
                                     ignore_index)
    assert math.isnan(iou[-1]) and not np.isnan(iou[:-1]).any()
    np.testing.assert_allclose(
        result['per_class_iou'].numpy(), iou, rtol=1e-6, equal_nan=True)
    assert result['mIoU'] == pytest.approx(np.nanmean(iou))
    assert result['accuracy'] == pytest.approx(accuracy)
    assert 0 < result['mIoU'] < 100  # neither trivial nor degenerate


def test_oracle_is_exact_on_patch_rows_and_checkerboards():
    assert oracle_miou(_row_striped(4, 3), GRID, NUM_CLASSES)['mIoU'] == 100
    board = (torch.arange(SIZE)[:, None] // PATCH +
             torch.arange(SIZE)[None] // PATCH) % 2
    result = oracle_miou(board[None], GRID, 2)
    assert result['mIoU'] == 100 and result['accuracy'] == 100


def test_oracle_misses_a_corner_that_three_patches_outvote():
    # 2x2 patches of 8x8 pixels, class 0 in the bottom-right one only. The
    # pixels nearest the centre of the image: bilinear (align_corners=False)
    # gives (8, 8) its own patch 0.5625 ** 2 < 0.5 of the mass, and so on
    # for (8, 9), (9, 8), (9, 9), (8, 10), (10, 8): 6 pixels predicted 1.
    labels = torch.ones(1, 16, 16, dtype=torch.long)
    labels[0, 8:, 8:] = 0
    result = oracle_miou(labels, (2, 2), 2)
    assert result['accuracy'] == pytest.approx(100 * 250 / 256)
    np.testing.assert_allclose(result['per_class_iou'].numpy(),
                               [100 * 58 / 64, 100 * 192 / 198])


def test_a_query_equal_to_a_memory_image_retrieves_its_own_labels():
    mem, mem_labels, _, _ = _random_case(5)
    hists = patch_class_histograms(mem_labels, GRID, NUM_CLASSES)
    dists = dense_nn_retrieval(
        mem.reshape(-1, DIM),
        hists.reshape(-1, NUM_CLASSES),
        mem[[0, 2]].reshape(-1, DIM),
        k=1)
    assert torch.equal(dists.float(), hists[[0, 2]].reshape(-1, NUM_CLASSES))
    # impure patches: retrieval reaches the oracle
    result = retrieval_miou(
        mem, mem_labels, mem[[0, 2]], mem_labels[[0, 2]], NUM_CLASSES, k=1)
    oracle = oracle_miou(mem_labels[[0, 2]], GRID, NUM_CLASSES)
    assert torch.equal(result['confusion'], oracle['confusion'])
    # pure patches: 100 %
    striped = _row_striped(6, 3)
    result = retrieval_miou(
        mem, striped, mem[[0, 2]], striped[[0, 2]], NUM_CLASSES, k=1)
    assert result['mIoU'] == 100 and result['accuracy'] == 100


def test_standardise_uses_the_memory_statistics():
    gen = _gen(7)
    scale = torch.tensor([1., 10., 0.1, 3., 1.])
    offset = torch.tensor([0., 100., -5., 2., 0.])
    memory = torch.randn(40, DIM, generator=gen) * scale + offset
    memory[:, 4] = 7.  # a constant dimension
    queries = torch.randn(6, DIM, generator=gen)
    std_memory, std_queries = standardise(memory,
                                          torch.cat([queries, memory[:2]]))
    assert torch.allclose(std_memory[:, :4].mean(0), torch.zeros(4), atol=1e-5)
    assert torch.allclose(
        std_memory[:, :4].std(0, unbiased=False), torch.ones(4), atol=1e-5)
    assert torch.equal(std_memory[:, 4], torch.zeros(40))
    assert torch.allclose(std_queries[6:], std_memory[:2])
    mean, std = memory.mean(0), memory.std(0, unbiased=False)
    assert torch.allclose(std_queries[:6, :4],
                          (queries[:, :4] - mean[:4]) / std[:4])


def test_standardising_rescues_a_dimension_with_a_huge_offset():
    # one 1x2 image: class 0 on the left patch, class 1 on the right. On
    # dimension 0 every token sits at 1000, so cosine ranks by Euclidean
    # distance in the other dimensions and the query's class-0 token
    # (4, 0) is nearer the small class-1 tokens (0, 0.5) than the class-0
    # ones (10, 0). Standardised, it points the class-0 way.
    labels = torch.zeros(2, PATCH, 2 * PATCH, dtype=torch.long)
    labels[:, :, PATCH:] = 1
    mem = torch.tensor([[1000., 10., 0.],
                        [1000., 0., .5]]).expand(2, 1, 2, 3).contiguous()
    query = torch.tensor([[[[1000., 4., 0.], [1000., 0., .5]]]])
    plain = retrieval_miou(mem, labels, query, labels[:1], 2, k=1)
    assert plain['accuracy'] == 50. and plain['mIoU'] == 25.
    fixed = retrieval_miou(
        mem, labels, query, labels[:1], 2, k=1, standardise_features=True)
    assert fixed['mIoU'] == 100.


def test_pixel_patch_features_are_the_patches_pixels():
    images = torch.randint(
        256, (2, 3, 12, 8), generator=_gen(8), dtype=torch.uint8)
    feats = pixel_patch_features(images, (3, 2))
    assert feats.shape == (2, 3, 2, 3 * 4 * 4) and feats.dtype == torch.float32
    for n in range(2):
        for i in range(3):
            for j in range(2):
                expected = [
                    float(images[n, c, 4 * i + y, 4 * j + x]) for c in range(3)
                    for y in range(4) for x in range(4)
                ]
                assert feats[n, i, j].tolist() == expected
    with pytest.raises(ValueError, match='12x8 do not split into a 5x2'):
        pixel_patch_features(images, (5, 2))


def test_raw_pixel_floor_runs_through_retrieval_miou():
    # a patch's colour is its class's colour plus noise: raw pixels suffice
    labels = _row_striped(9, 4)
    labels[0] = torch.arange(SIZE)[:, None] // PATCH  # every class in memory
    colours = torch.eye(3, 4).t() * 200 + 20  # (4 classes, 3 channels)
    images = colours[labels].permute(0, 3, 1, 2) + torch.rand(
        4, 3, SIZE, SIZE, generator=_gen(10))
    feats = pixel_patch_features(images, GRID)
    result = retrieval_miou(
        feats[:3],
        labels[:3],
        feats[3:],
        labels[3:],
        NUM_CLASSES,
        k=3,
        standardise_features=True)
    assert result['mIoU'] == 100
