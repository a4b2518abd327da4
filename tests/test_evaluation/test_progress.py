# Copyright (c) mmsim contributors. All rights reserved.
import io
import re

import torch
from torch.utils.data import DataLoader, TensorDataset

from mmsim.evaluation.progress import RankZeroProgress, loader_length


def test_bar_reaches_total_and_ends_its_line():
    out = io.StringIO()
    progress = RankZeroProgress(10, desc='ten items', file=out)
    assert progress.active
    for num in (3, 3, 0, 4):
        progress.update(num)
    progress.close()
    progress.close()  # idempotent
    text = out.getvalue()
    assert text.startswith('ten items\n') and text.endswith('\n')
    assert text.count('\n') == 2
    assert re.findall(r'(\d+)/10, ', text) == ['0', '3', '6', '10']
    assert progress.done == 10 and not progress.active


def test_disabled_bar_prints_nothing_but_counts():
    out = io.StringIO()
    progress = RankZeroProgress(5, enabled=False, desc='x', file=out)
    progress.update(5)
    progress.close()
    assert out.getvalue() == '' and progress.done == 5


def test_loader_length_is_the_samplers():
    data = TensorDataset(torch.zeros(7, 1))
    assert loader_length(DataLoader(data, batch_size=3)) == 7
    assert loader_length(object()) == 0
