# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.checkpoint_io: atomic, reproducible writes."""
import os.path as osp

import pytest
import torch

from mmsim.transfer.checkpoint_io import save_checkpoint


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = str(tmp_path / 'out.pth')

    def broken_save(obj, f, *args, **kwargs):
        f.write(b'partial')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        save_checkpoint({'a': torch.zeros(1)}, path)
    assert not osp.exists(path)
    assert list(tmp_path.iterdir()) == []


def test_the_same_tensors_give_the_same_bytes_under_any_name(tmp_path):
    """The replay reuses a fine-tune when its encoder file's sha256 is
    unchanged, so writing the same state again, or under another name,
    must give the same bytes (torch names a path's archive after it)."""
    state = {'w': torch.arange(6.).view(2, 3), 'b': torch.ones(3)}
    first, second = str(tmp_path / 'a.pth'), str(tmp_path / 'b.pth')
    save_checkpoint(state, first, meta=dict(source='x'))
    save_checkpoint(state, second, meta=dict(source='x'))
    data = open(first, 'rb').read()
    assert data == open(second, 'rb').read()
    save_checkpoint(state, first, meta=dict(source='x'))
    assert open(first, 'rb').read() == data
    loaded = torch.load(first)
    assert torch.equal(loaded['state_dict']['w'], state['w'])
    assert loaded['meta'] == dict(source='x')
