# Copyright (c) mmsim contributors. All rights reserved.
"""Loading a checkpoint never runs code its pickle carries; tensors load as
torch's own loaders load them."""
import collections
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from mmsim.transfer import read_checkpoint
from mmsim.transfer.checkpoint_io import UnbuiltObjectsWarning
from mmsim.transfer.safe_unpickling import (NotConstructed, load_without_code,
                                            loads)


class CreatesAFile:
    """Unpickling this calls ``open(path, 'w')``: a checkpoint's code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


class RunsAShell:
    """Unpickling this calls ``os.system``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f'touch {self.path}', ))


def _state():
    return collections.OrderedDict(
        weight=torch.randn(3, 4),
        bias=torch.nn.Parameter(torch.arange(3.)),
        steps=torch.tensor(7))


@pytest.mark.parametrize('zipped', [True, False])
def test_hostile_payloads_do_not_run(tmp_path, zipped):
    marks = [str(tmp_path / 'opened'), str(tmp_path / 'shell')]
    state = _state()
    path = str(tmp_path / 'hostile.pth')
    torch.save(
        dict(
            state_dict=state,
            meta=dict(cfg='a = 1', payload=CreatesAFile(marks[0])),
            other=[RunsAShell(marks[1])]),
        path,
        _use_new_zipfile_serialization=zipped)
    # the payload is live: torch's default loader (torch < 2.6) runs it
    torch.load(path, weights_only=False)
    assert all(osp.exists(mark) for mark in marks)
    for mark in marks:
        os.remove(mark)
    checkpoint, names = load_without_code(path)
    assert not any(osp.exists(mark) for mark in marks)
    assert names == sorted(['io.open', f'{os.system.__module__}.system'])
    assert isinstance(checkpoint['meta']['payload'], NotConstructed)
    assert checkpoint['meta']['cfg'] == 'a = 1'
    assert isinstance(checkpoint['state_dict'], collections.OrderedDict)
    for key, value in state.items():
        assert torch.equal(checkpoint['state_dict'][key], value), key
    assert isinstance(checkpoint['state_dict']['bias'], torch.nn.Parameter)


def test_read_checkpoint_warns_with_the_names(tmp_path):
    path = str(tmp_path / 'hostile.pth')
    torch.save(dict(state_dict=_state(), x=CreatesAFile(path + '.x')), path)
    with pytest.warns(
            UnbuiltObjectsWarning,
            match=r'hostile.pth asks to '
            r'build io.open: not built'):
        read_checkpoint(path)
    assert not osp.exists(path + '.x')


def test_same_tensors_as_torchs_weights_only_loader(tmp_path):
    """On a file torch's own weights_only loader accepts (the independent
    reference), every object is the same."""
    path = str(tmp_path / 'plain.pth')
    torch.save(
        dict(
            model=_state(),
            epoch=3,
            sizes=torch.Size([2, 3]),
            dtype=torch.float16,
            half=torch.ones(2, dtype=torch.half)), path)
    ours, names = load_without_code(path)
    reference = torch.load(path, map_location='cpu', weights_only=True)
    assert names == []
    assert ours.keys() == reference.keys()
    assert ours['epoch'] == 3 and ours['sizes'] == torch.Size([2, 3])
    assert ours['dtype'] is torch.float16
    for key in ('model', ):
        for name, value in reference[key].items():
            assert torch.equal(ours[key][name], value)
            assert type(ours[key][name]) is type(value)
    assert torch.equal(ours['half'], reference['half'])


def test_mmengine_meta_stands_in_quietly(tmp_path, recwarn):
    """numpy scalars and arrays (mmengine's ``meta`` and message hub) stand
    in without a warning; the tensors load."""
    path = str(tmp_path / 'runner.pth')
    torch.save(
        dict(
            meta=dict(seed=np.int64(0), iters=np.arange(3), cfg='x'),
            state_dict=_state()), path)
    checkpoint = read_checkpoint(path)
    assert not [w for w in recwarn if w.category is UnbuiltObjectsWarning]
    assert checkpoint['meta']['cfg'] == 'x'
    assert torch.equal(checkpoint['state_dict']['weight'],
                       torch.load(path)['state_dict']['weight'])


def test_a_runner_checkpoint_stands_in_quietly(tmp_path, recwarn):
    """What mmengine's runner saves (its message hub's HistoryBuffers
    pickle ``getattr(HistoryBuffer, 'min')``) loads without a warning."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_runner_checkpoint_quietly')
    hub.update_scalar('train/loss', 1.5)
    path = str(tmp_path / 'epoch_1.pth')
    state = _state()
    torch.save(
        dict(
            meta=dict(seed=np.int64(0)),
            message_hub=hub.state_dict(),
            state_dict=state),
        path,
        pickle_protocol=2)
    stand_ins = load_without_code(path)[1]
    assert any(name.endswith('getattr') for name in stand_ins), stand_ins
    checkpoint = read_checkpoint(path)
    assert not [w for w in recwarn if w.category is UnbuiltObjectsWarning]
    assert torch.equal(checkpoint['state_dict']['weight'], state['weight'])


def test_plain_pickles_too(tmp_path):
    mark = str(tmp_path / 'opened')
    data = pickle.dumps(dict(a=[1, 2.5, 'x'], b=CreatesAFile(mark)))
    loaded = loads(data)
    assert loaded['a'] == [1, 2.5, 'x'] and not osp.exists(mark)
    assert repr(loaded['b']) == '<io.open: not constructed>'
