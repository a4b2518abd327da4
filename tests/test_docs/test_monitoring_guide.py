# Copyright (c) mmsim contributors. All rights reserved.
"""docs/monitoring.md against a real (small) run of the quick-start
config: its table of scalars is what the run logs, its config block
builds the monitor, its plot_scalars.py commands parse, and the tool
plots the run."""
import contextlib
import glob
import io
import os.path as osp
import re
import shlex

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmselfsup.registry import HOOKS
from PIL import Image

from tests.test_engine.test_sim_runner import tiny_cfg
from tests.test_tools.test_plot_scalars import tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GUIDE = osp.join(REPO, 'docs', 'monitoring.md')
COUNTERS = {'step', 'epoch', 'iter'}


def _guide() -> str:
    with open(GUIDE, encoding='utf-8') as f:
        return f.read()


def _section(title: str) -> str:
    text = _guide()
    start = text.index(f'## {title}\n')
    end = text.find('\n## ', start + 1)
    return text[start:end if end > 0 else None]


@pytest.fixture(scope='module')
def tiny_run(shapes_root, tmp_path_factory):
    """A 2-epoch run of the quick-start config (2 blocks, the kNN monitor
    and the dense probe on, as shipped); its work dir and scalars.json."""
    work_dir = str(tmp_path_factory.mktemp('monitoring_run'))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        Runner.from_cfg(tiny_cfg(shapes_root, work_dir, max_epochs=2)).train()
    # the monitor extracts features without progress bars in the log
    assert 'features of' not in printed.getvalue()
    assert 'ETA:' not in printed.getvalue()
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert len(files) == 1, files
    # the TensorBoard event files land beside it, as the guide says
    assert glob.glob(osp.join(osp.dirname(files[0]), 'events.out.tfevents*'))
    return work_dir, files[0]


def test_the_table_lists_exactly_the_logged_scalars(tiny_run):
    _, path = tiny_run
    records = tool.read_records(path)
    logged = set(tool.scalar_keys(records))
    table = re.findall(r'^\| `([^`]+)` \|', _section('Scalars a run logs'),
                       re.M)
    assert len(table) == len(set(table))
    listed = set(table)
    if not torch.cuda.is_available():  # mmengine adds `memory` with CUDA
        listed.discard('memory')
    assert listed == logged
    counters = {key for record in records for key in record} - logged
    assert counters == COUNTERS
    for counter in COUNTERS:
        assert f'`{counter}`' in _section('Scalars a run logs')


def test_plot_scalars_draws_the_run(tiny_run, capsys):
    work_dir, path = tiny_run
    records = tool.read_records(path)
    series = tool.collect(records, ['knn/top1', 'dense/mIoU', 'loss'], 'epoch',
                          path)
    # the monitor evaluates before training and after the last epoch
    # (interval 2), the loss is logged every iteration (4 per epoch)
    assert series['knn/top1'][0] == [0., 2.]
    assert series['dense/mIoU'][0] == [0., 2.]
    assert series['loss'][0] == pytest.approx([i / 4 for i in range(1, 9)])
    out = osp.join(work_dir, 'monitor.png')
    assert tool.main(
        [work_dir, '--keys', 'knn/top1', 'dense/mIoU', '--out', out]) == 0
    assert 'knn/top1: 2 points, dense/mIoU: 2 points' in \
        capsys.readouterr().out
    with Image.open(out) as image:
        assert image.format == 'PNG' and image.size[0] == 600


def test_the_guides_commands_and_config_are_valid():
    text = _guide()
    commands = [
        ' '.join(block.replace('\\\n', ' ').split()) for block in re.findall(
            r'^(python tools/analysis/plot_scalars\.py .*?)(?:\n(?! ))', text,
            re.M | re.S)
    ]
    assert len(commands) == 2, commands
    for command in commands:
        args = tool.parse_args(shlex.split(command)[2:])
        assert args.work_dir == 'work_dirs/quickstart_sim'
    assert '![kNN and dense-probe curves of the quick start]' \
        '(images/quickstart_monitor.png)' in text
    config = re.search(r'```python\n(custom_imports.*?)```', text,
                       re.S).group(1)
    cfg = Config.fromstring(config, '.py')
    hook = HOOKS.build(cfg.custom_hooks[0])
    assert hook.interval == 5 and hook.dense_probe['num_classes'] == 21
    assert hook.dense_nn['num_classes'] == 21 and hook.dense_nn['k'] == 30
    assert [b['type'] for b in cfg.visualizer.vis_backends
            ] == ['LocalVisBackend', 'TensorboardVisBackend']
