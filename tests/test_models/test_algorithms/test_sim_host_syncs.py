# Copyright (c) mmsim contributors. All rights reserved.
"""A SIM training step never waits for the device.

On a GPU, reading a tensor's value on the host (``.item()``, ``if t:``,
``int(t)``), ``nonzero`` and boolean-mask indexing (which must learn its
output size) stop the host until the device has caught up. On CPU they
cost nothing, so the CPU test counts them instead: it patches those
entry points of ``torch.Tensor`` / ``torch`` and counts the calls made
with mmsim's code on the stack, during one ``train_step`` of the shipped
quick-start model on generated data, with the shipped optimiser. The GPU
test (skipped without CUDA) runs the step under
``torch.cuda.set_sync_debug_mode('error')``.
"""
import contextlib
import os.path as osp
import traceback
from typing import Iterator, List

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmsim
from mmsim.datasets.shapes import generate_shapes_dataset
from tests._host import HOST_NAME, MODELS, QUICKSTART_CONFIG, preprocess

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
QUICK_START = QUICKSTART_CONFIG
MMSIM_DIR = osp.dirname(osp.abspath(mmsim.__file__)) + osp.sep
TORCH_DIR = osp.dirname(osp.abspath(torch.__file__)) + osp.sep
# Tensor methods that read a value on the host (or, for nonzero, wait for
# its size); __getitem__ / __setitem__ count only with a boolean index.
READ_METHODS = ('item', 'tolist', 'numpy', '__bool__', '__int__', '__float__',
                '__index__', 'nonzero', 'masked_select')
READ_FUNCTIONS = ('nonzero', 'masked_select', 'argwhere', 'unique')


def _caller() -> traceback.FrameSummary:
    """The innermost frame outside torch and this file: whose code asked
    for the read (mmsim's own, or mmengine's / mmcls's)."""
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith((TORCH_DIR, __file__)):
            return frame
    raise AssertionError('no caller outside torch')


def _is_bool_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index, )
    return any(
        torch.is_tensor(i) and i.dtype in (torch.bool, torch.uint8)
        for i in items)


@contextlib.contextmanager
def count_host_reads() -> Iterator[List[str]]:
    """Yield a list that collects one line per host read asked for by
    mmsim's code (directly or through the torch functions it calls; reads
    of mmengine's optimiser wrapper or of mmcls's layers are theirs)."""
    reads: List[str] = []

    def wrap(owner, name, only_bool_index=False):
        original = getattr(owner, name)

        def patched(*args, **kwargs):
            if not only_bool_index or _is_bool_index(args[1]):
                caller = _caller()
                if caller.filename.startswith(MMSIM_DIR):
                    path = osp.relpath(caller.filename, MMSIM_DIR)
                    reads.append(f'{name} at {path}:{caller.lineno}')
            return original(*args, **kwargs)

        return original, patched

    patches = [(torch.Tensor, name, *wrap(torch.Tensor, name))
               for name in READ_METHODS]
    patches += [(torch.Tensor, name, *wrap(torch.Tensor, name, True))
                for name in ('__getitem__', '__setitem__')]
    patches += [(torch, name, *wrap(torch, name)) for name in READ_FUNCTIONS]
    for owner, name, _, patched in patches:
        setattr(owner, name, patched)
    try:
        yield reads
    finally:
        for owner, name, original, _ in patches:
            setattr(owner, name, original)


@pytest.fixture(scope='module')
def quickstart_step(tmp_path_factory):
    """The quick-start model (2 blocks), its optimiser wrapper and a batch
    of 4 from its own pipeline on generated shapes."""
    root = str(tmp_path_factory.mktemp('sync_shapes')) + '/'
    generate_shapes_dataset(
        root, num_train=16, num_val=8, num_det_train=0, num_det_val=0)
    cfg = Config.fromfile(QUICK_START)
    cfg.model.backbone.arch.num_layers = 2
    loader_cfg = cfg.train_dataloader
    loader_cfg.update(batch_size=4, num_workers=0)
    loader_cfg.dataset.update(
        data_root=root, classes=root + 'meta/classes.txt')
    with DefaultScope.overwrite_default_scope(HOST_NAME):
        batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
        model = MODELS.build(cfg.model)
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return model, optim_wrapper, batch


def _runner_iteration(it: int, max_iters: int = 100) -> None:
    """Publish the iteration as mmengine's runner does."""
    hub = MessageHub.get_instance('mmsim-test-host-syncs')
    hub.update_info('iter', it)
    hub.update_info('max_iters', max_iters)


def test_training_step_reads_nothing_from_the_device(quickstart_step):
    model, optim_wrapper, batch = quickstart_step
    _runner_iteration(0)
    with count_host_reads() as first:
        model.train_step(batch, optim_wrapper)
    # the first batch's mask count, read once per run
    assert len(first) == 1 and 'sim.py' in first[0], first
    for it in (1, 2):
        _runner_iteration(it)
        with count_host_reads() as reads:
            log_vars = model.train_step(batch, optim_wrapper)
        assert reads == [], reads
    assert int(model.target.steps) == 3
    assert torch.isfinite(log_vars['loss'])
    # the deferred checks are read when asked for, in one place
    with count_host_reads() as reads:
        model.raise_deferred_errors()
    assert len(reads) == 2 and all('deferred_checks' in r for r in reads)


def test_counter_sees_the_reads_it_looks_for(quickstart_step):
    """The counter itself: boolean-mask indexing, .item() and `if t` made
    by mmsim's code are counted (as today's code made them)."""
    from mmsim.models.backbones import SIMViT
    tokens = torch.randn(2, 4, 3)
    mask = torch.tensor([[1, 0, 0, 1], [0, 1, 0, 1]], dtype=torch.bool)
    with count_host_reads() as reads:
        SIMViT.gather_visible(tokens, mask)  # counts on the host
        tokens[~mask]  # the test's own read: not counted
    assert any('__bool__' in r for r in reads), reads


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
def test_training_step_has_no_device_sync_on_gpu(quickstart_step):
    model, _, batch = quickstart_step
    model = model.cuda()
    # mmengine's gradient clipping logs the norm with float() (a sync of
    # mmengine's, not ours), so a wrapper without clipping
    optim_wrapper = OptimWrapper(
        torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                          lr=1e-4))
    _runner_iteration(0)
    model.train_step(batch, optim_wrapper)  # reads the mask count once
    _runner_iteration(1)
    # inputs on the device first: the host-to-device copy is not the step
    inputs, data_samples = preprocess(model, batch)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        losses = model(inputs, data_samples, mode='loss')
        loss, _ = model.parse_losses(losses)
        optim_wrapper.update_params(loss)
    finally:
        torch.cuda.set_sync_debug_mode('default')
    model.raise_deferred_errors()
    assert torch.isfinite(loss)
