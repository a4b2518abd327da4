# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.checkpoint_io: atomic writes."""
import os.path as osp

import pytest
import torch

from mmsim.transfer.checkpoint_io import save_checkpoint


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = str(tmp_path / 'out.pth')

    def broken_save(obj, f, *args, **kwargs):
        with open(f, 'wb') as handle:
            handle.write(b'partial')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        save_checkpoint({'a': torch.zeros(1)}, path)
    assert not osp.exists(path)
    assert list(tmp_path.iterdir()) == []
