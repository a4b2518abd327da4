# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmsim.det.layers import (RelPosAttention, SIMLayerNorm2d,
                              decomposed_rel_pos_bias, relative_position_table,
                              resize_pos_embed_grid, window_partition,
                              window_unpartition)


@pytest.mark.parametrize('size', [(8, 8), (9, 5), (3, 2)])
def test_window_partition_round_trip(size):
    x = torch.randn(2, *size, 6)
    windows, padded = window_partition(x, 4)
    assert windows.shape[1:] == (4, 4, 6)
    assert padded == (-(-size[0] // 4) * 4, -(-size[1] // 4) * 4)
    assert windows.shape[0] == 2 * padded[0] // 4 * padded[1] // 4
    # window (0, 0) of sample 0 is the top-left 4 x 4 corner
    corner = F.pad(
        x, (0, 0, 0, padded[1] - size[1], 0, padded[0] - size[0]))[0, :4, :4]
    assert torch.equal(windows[0], corner)
    assert torch.equal(window_unpartition(windows, 4, padded, size), x)


def _naive_bias(q, table_h, table_w, height, width):
    """bias[n, (i, j), (k, l)] = q . Rh[i - k + H - 1] + q . Rw[j - l + W - 1]
    written with loops."""
    n = q.shape[0]
    bias = torch.zeros(n, height * width, height * width)
    for i in range(height):
        for j in range(width):
            for k in range(height):
                for m in range(width):
                    query = q[:, i * width + j]
                    bias[:, i * width + j, k * width + m] = (
                        query @ table_h[i - k + height - 1] +
                        query @ table_w[j - m + width - 1])
    return bias


def test_decomposed_rel_pos_bias_matches_loops():
    height, width, channels = 3, 4, 5
    q = torch.randn(2, height * width, channels)
    table_h = torch.randn(2 * height - 1, channels)
    table_w = torch.randn(2 * width - 1, channels)
    bias = decomposed_rel_pos_bias(q, table_h, table_w, (height, width),
                                   (height, width))
    torch.testing.assert_close(bias,
                               _naive_bias(q, table_h, table_w, height, width))


def test_relative_position_table_resizes():
    table = torch.randn(7, 3)  # trained for an axis of 4
    assert torch.equal(relative_position_table(table, 4, 4)[1, 3], table[1])
    assert relative_position_table(table, 6, 6).shape == (6, 6, 3)


def test_rel_pos_attention_zero_tables_is_plain_attention():
    attn = RelPosAttention(8, 2, rel_pos_size=(3, 3))
    x = torch.randn(2, 3, 3, 8)
    qkv = attn.qkv(x).reshape(2, 9, 3, 2, 4).permute(2, 0, 3, 1, 4)
    q, k, v = qkv
    weights = (q @ k.transpose(-2, -1) / 2.).softmax(-1)  # sqrt(4) = 2
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(2, 3, 3, 8))
    torch.testing.assert_close(attn(x), expected)


def test_rel_pos_attention_uses_tables():
    attn = RelPosAttention(8, 2, rel_pos_size=(3, 3))
    x = torch.randn(1, 3, 3, 8)
    before = attn(x)
    with torch.no_grad():
        attn.rel_pos_h.normal_()
    assert not torch.allclose(attn(x), before)
    attn(x).sum().backward()
    assert attn.rel_pos_w.grad is not None


def test_rel_pos_attention_errors():
    with pytest.raises(ValueError, match='divisible'):
        RelPosAttention(10, 3, rel_pos_size=(2, 2))
    with pytest.raises(ValueError, match='rel_pos_size'):
        RelPosAttention(8, 2)


def test_layer_norm_2d_normalises_channels():
    norm = SIMLayerNorm2d(6)
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(2, 6, 5, 4)
    expected = F.layer_norm(
        x.permute(0, 2, 3, 1), (6, ), norm.weight, norm.bias,
        1e-6).permute(0, 3, 1, 2)
    torch.testing.assert_close(norm(x), expected)
    with pytest.raises(ValueError, match='B, C, H, W'):
        norm(torch.randn(2, 6))


def test_resize_pos_embed_grid():
    pos = torch.randn(1, 16, 3)
    assert torch.equal(
        resize_pos_embed_grid(pos, (4, 4)), pos.reshape(1, 4, 4, 3))
    resized = resize_pos_embed_grid(pos, (6, 5))
    expected = F.interpolate(
        pos.reshape(1, 4, 4, 3).permute(0, 3, 1, 2), (6, 5),
        mode='bicubic',
        align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(resized, expected)
    with pytest.raises(ValueError, match='square'):
        resize_pos_embed_grid(torch.randn(1, 15, 3), (4, 4))
