# Copyright (c) mmsim contributors. All rights reserved.
"""The quick-start config's log holds no warnings that mmsim causes.

Before: 91 ``... is skipped since its requires_grad=False`` WARNING lines
(mmengine's optimiser constructor, one per frozen momentum-target tensor)
before the first iteration, and mmcv's ``Only use 'alpha' for pillow
backend`` again every epoch (mmselfsup's ColorJitter in the dataloader
workers, which restart every epoch).
"""
import contextlib
import glob
import os.path as osp
import re
import sys
import warnings

import pytest
from mmengine.runner import Runner

from tests._shapes_data import shapes_folder
from tests.test_engine.test_sim_runner import quickstart_cfg

#: WARNING lines the toolboxes print whatever the config says, each with
#: why it is not ours to fix.
TOOLBOX_WARNINGS = (
    # mmengine's CheckpointHook.before_train builds a deprecated FileClient
    # unconditionally ("kept until MMEngine 1.0" in its source), whatever
    # its file_client_args / backend_args; the two lines come from there.
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)
_WARNING_LINE = re.compile(r' - WARNING - (.*)')
_PYTHON_WARNING = re.compile(r'^(\S+):\d+: (\w+): (.*)$', re.MULTILINE)


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    return shapes_folder(
        tmp_path_factory,
        'shapes_quiet',
        num_train=16,
        num_val=8,
        num_det_train=4,
        num_det_val=2,
        det_img_size=64)


def _print_warning(message,
                   category,
                   filename,
                   lineno,
                   file=None,
                   line=None) -> None:
    sys.stderr.write(
        warnings.formatwarning(message, category, filename, lineno, line))


@contextlib.contextmanager
def _terminal_warnings():
    """Python's default warning filters, printed to stderr, in this process
    and in forked dataloader workers (what a user's terminal shows; pytest
    would record them instead, and a worker's record is lost)."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter('default')
        for category in (DeprecationWarning, PendingDeprecationWarning,
                         ImportWarning, ResourceWarning):
            warnings.simplefilter('ignore', category)
        warnings.showwarning = _print_warning
        yield


def _ours(message: str) -> bool:
    return not any(known in message for known in TOOLBOX_WARNINGS)


@pytest.mark.timeout(300)
def test_quickstart_log_has_no_warnings_of_ours(shapes_root, tmp_path, capfd):
    """The shipped config (its dataloader worker, TensorBoard backend, kNN
    monitor and dense probe included) with a 2-block encoder, 2 epochs of
    2 iterations: no WARNING line and no Python warning but the explained
    toolbox ones, in the console or the work dir's log; the monitor lines
    carry the scalars' names."""
    cfg = quickstart_cfg(shapes_root, str(tmp_path / 'work'))
    cfg.train_dataloader.num_workers = 1  # as shipped: a worker per epoch
    cfg.model.backbone.arch.update(num_layers=2)
    cfg.train_dataloader.batch_size = 8
    cfg.train_cfg.max_epochs = 2
    cfg.custom_hooks[0].interval = 1
    cfg.default_hooks.logger.interval = 1
    capfd.readouterr()
    with _terminal_warnings():
        runner = Runner.from_cfg(cfg)
        runner.train()
    out, err = capfd.readouterr()
    (log_file, ) = glob.glob(osp.join(cfg.work_dir, '*', '*.log'))
    with open(log_file) as f:
        log = f.read()

    for text in (out, log):
        warning_lines = _WARNING_LINE.findall(text)
        assert [w for w in warning_lines if _ours(w)] == []
    python_warnings = _PYTHON_WARNING.findall(err)
    assert [w for w in python_warnings if _ours(w[2])] == [], err
    first_iter = out.index('Epoch(train) [1][1/2]')
    assert 'optimiser: ' in out[:first_iter]  # the constructor's summary
    assert 'Epoch(train) [2][2/2]' in log
    for epoch in range(3):
        assert re.search(
            rf'Monitor \[epoch {epoch}/2\]  knn/top1: \d+\.\d\d %  \(8 val '
            r'vs 16 train images, k=20, T=0\.07; ', log)
        assert re.search(
            rf'Monitor \[epoch {epoch}/2\]  dense/mIoU: \d+\.\d\d %  \(2 '
            r'val images, 4x4 patches, fitted on 4; ', log)
    # the raw-pixel baseline: its own line once, then on every kNN line
    assert len(
        re.findall(r'knn/pixels: \d+\.\d\d %  \(baseline of '
                   r'knn/top1', log)) == 1
    assert len(
        re.findall(r'T=0\.07; \d+\.\d s\)  knn/pixels: \d+\.\d\d %', log)) == 3
    assert glob.glob(
        osp.join(cfg.work_dir, '*', 'vis_data', 'events.out.tfevents.*'))
