# Copyright (c) mmsim contributors. All rights reserved.
"""mmengine's checkpoints load under torch's ``weights_only`` (the default
of ``torch.load`` since torch 2.6) once mmsim is imported, and a file that
asks for code is still refused."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import load_checkpoint

import mmsim  # noqa: F401  (adds the types at import)
from mmsim.engine.runner import allow_mmengine_checkpoint_types

HAS_SAFE_GLOBALS = hasattr(torch.serialization, 'add_safe_globals')
needs_safe_globals = pytest.mark.skipif(
    not HAS_SAFE_GLOBALS, reason='torch < 2.4: torch.load builds any class')


def _mmengine_like_checkpoint(path: str) -> dict:
    """What mmengine's runner saves: weights, an optimiser state and a meta
    with numpy scalars, a NumPy RNG state and the message hub's state."""
    hub = MessageHub.get_instance('mmsim-test-checkpoint-globals')
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_scalar('train/lr', 1e-3)
    hub.update_info('iter', 7)
    model = torch.nn.Linear(3, 2)
    checkpoint = dict(
        meta=dict(
            epoch=np.int64(1),
            iter=7,
            seed=np.int32(0),
            loss=np.float32(0.5),
            numpy_rng=np.random.get_state(),
            message_hub=hub.state_dict()),
        state_dict=model.state_dict(),
        optimizer=torch.optim.AdamW(model.parameters()).state_dict())
    torch.save(checkpoint, path)
    return checkpoint


@needs_safe_globals
def test_weights_only_loads_mmengine_meta(tmp_path):
    path = str(tmp_path / 'epoch_1.pth')
    saved = _mmengine_like_checkpoint(path)
    loaded = torch.load(path, weights_only=True)
    meta = loaded['meta']
    assert meta['epoch'] == 1 and isinstance(meta['epoch'], np.int64)
    assert meta['loss'] == np.float32(0.5)
    assert meta['numpy_rng'][0] == 'MT19937'
    assert np.array_equal(meta['numpy_rng'][1], saved['meta']['numpy_rng'][1])
    buffer = meta['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.current() == 0.25
    assert torch.equal(loaded['state_dict']['weight'],
                       saved['state_dict']['weight'])


@needs_safe_globals
def test_weights_only_still_refuses_code(tmp_path):
    marker = tmp_path / 'ran'

    class Payload:

        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    path = str(tmp_path / 'hostile.pth')
    torch.save(dict(meta=Payload()), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    assert not marker.exists()


@needs_safe_globals
@pytest.mark.parametrize('owner, name', [(torch.Tensor, 'tolist'),
                                         (HistoryBuffer, '__init__'),
                                         (np.ndarray, 'tofile')])
def test_weights_only_refuses_getattr_beyond_history_buffer(
        tmp_path, owner, name):
    """mmsim lets ``getattr`` through only for HistoryBuffer's statistics
    (what mmengine's message hub pickles); anything else is refused."""

    class Attribute:

        def __reduce__(self):
            return (getattr, (owner, name))

    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(meta=Attribute()), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    statistic = str(tmp_path / 'statistic.pth')
    torch.save(dict(method=HistoryBuffer.mean), statistic)
    assert torch.load(statistic, weights_only=True)['method'] is \
        HistoryBuffer.mean


def test_mmengine_load_checkpoint_reads_it(tmp_path):
    """mmengine's own ``load_checkpoint`` (what ``load_from`` and resume
    call; on torch >= 2.6 it loads with torch's default, weights_only)."""
    path = str(tmp_path / 'epoch_1.pth')
    saved = _mmengine_like_checkpoint(path)
    model = torch.nn.Linear(3, 2)
    checkpoint = load_checkpoint(model, path, map_location='cpu')
    assert torch.equal(model.weight, saved['state_dict']['weight'])
    assert checkpoint['meta']['iter'] == 7


def test_allow_reports_whether_torch_has_the_list():
    assert allow_mmengine_checkpoint_types() is HAS_SAFE_GLOBALS
