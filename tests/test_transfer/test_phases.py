# Copyright (c) mmsim contributors. All rights reserved.
import io

import pytest
import torch

from mmsim.transfer.phases import format_size, tensor_bytes, timed_phase


@pytest.mark.parametrize('num,text', [(0, '0 B'), (999, '999 B'),
                                      (1000, '1.0 kB'),
                                      (331_249_000, '331.2 MB'),
                                      (2.5e9, '2.5 GB'), (7e15, '7000.0 TB')])
def test_format_size(num, text):
    assert format_size(num) == text


def test_tensor_bytes_counts_a_shared_storage_once():
    qkv = torch.zeros(6, 4)  # 96 bytes, split into three views
    state = dict(
        q=qkv[:2], k=qkv[2:4], v=qkv[4:], bias=torch.zeros(3), steps=1)
    assert tensor_bytes(state) == 96 + 12


def test_timed_phase_prints_one_line_with_size_and_time():
    out, ticks = io.StringIO(), iter([10.0, 12.14])
    with timed_phase(
            'loading', 'a.pth', 331_249_000, out, clock=lambda: next(ticks)):
        assert out.getvalue() == 'loading a.pth (331.2 MB) ... '
    assert out.getvalue() == 'loading a.pth (331.2 MB) ... 2.1 s\n'


def test_timed_phase_says_failed_and_reraises():
    out = io.StringIO()
    with pytest.raises(OSError, match='disk full'):
        with timed_phase('writing', 'b.pth', file=out):
            raise OSError('disk full')
    assert out.getvalue() == 'writing b.pth ... failed\n'
