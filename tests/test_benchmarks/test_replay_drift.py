# Copyright (c) mmsim contributors. All rights reserved.
"""The replay's drift read-out: per-block relative change and the loss
windows of an mmengine log, against hand computations."""
import math

import pytest
import torch

from benchmarks.replay.drift import loss_windows, relative_drift


def test_relative_drift_per_block_against_hand_computation():
    gen = torch.Generator().manual_seed(0)
    start = {
        'backbone.layers.0.attn.qkv.weight': torch.randn(6, 2, generator=gen),
        'backbone.layers.0.attn.qkv.bias': torch.randn(6, generator=gen),
        'backbone.layers.1.ffn.weight': torch.randn(3, 3, generator=gen),
        'backbone.layers.10.ffn.weight': torch.ones(2, 2),
        'backbone.patch_embed.projection.weight': torch.ones(2, 1, 2, 2),
        'backbone.pos_embed': torch.ones(1, 5, 2),
    }
    # the end: a whole model's state, keys under backbone.
    end = {k: v.clone() for k, v in start.items()}
    end['backbone.layers.0.attn.qkv.weight'] *= 1.5
    end['backbone.layers.0.attn.qkv.bias'] += 10.  # vectors left out
    end['backbone.layers.10.ffn.weight'][0, 0] = 3.
    end['backbone.pos_embed'] += 7.  # position embeddings left out
    end['neck.weight'] = torch.zeros(2, 2)
    # the start without the prefix (a converted encoder file)
    drift = relative_drift({k[9:]: v for k, v in start.items()}, end)
    assert list(drift) == ['block 0', 'block 1', 'block 10', 'stem']
    assert drift['block 0'] == pytest.approx(0.5)
    assert drift['block 1'] == 0.
    assert drift['block 10'] == pytest.approx(math.sqrt(4 / 4))
    assert drift['stem'] == 0.
    del end['backbone.layers.1.ffn.weight']
    with pytest.raises(KeyError, match='layers.1.ffn.weight'):
        relative_drift(start, end)


def test_loss_windows_average_each_window(tmp_path):
    log = tmp_path / 'run.log'
    lines = ['12/07 07:00:00 - mmengine - INFO - Config: loss: 99\n']
    for it, loss in ((10, 2.), (20, 4.), (30, 1.), (40, 3.), (50, 0.5)):
        lines.append(f'12/07 07:00:{it} - mmengine - INFO - Iter(train) '
                     f'[{it:>3}/50]  lr: 1e-4  loss: {loss}  loss_cls: 9.0\n')
    lines.append('12/07 07:01:00 - mmengine - INFO - Iter(val) [5/5] '
                 'loss: 77\n')
    log.write_text(''.join(lines))
    assert loss_windows(str(log), 20) == [3., 2., 0.5]
