# Copyright (c) mmsim contributors. All rights reserved.
"""tools/transfer_quickstart.py and its former names, det_quickstart.py
and seg_quickstart.py, through mmdet's and mmseg's real runners at a tiny
size: the runs, metrics.json, the table, and every line of a run labelled
with its name, one run after another and at once."""
import glob
import json
import os.path as osp
import re
import runpy
import subprocess
import sys

from mmengine.config import Config

from mmsim.transfer import format_metrics
from .._subprocess_env import cpu_subprocess_env
from ..test_det._sim_checkpoint import save_sim_checkpoint
from ..test_transfer.test_finetune_seg import TINY_SIM, check_metrics

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
#: The pre-training config whose initialisation the ``init`` run takes.
SIM_CONFIG = osp.join(REPO, 'configs', 'sim',
                      'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')
#: The start of an mmengine logger line (after any label).
LOGGER_LINE = re.compile(r'\d{2}/\d{2} \d{2}:\d{2}:\d{2} - mmengine - ')


def _labels(lines):
    """The run label of every mmengine logger line (None: unlabelled)."""
    labels = []
    for line in lines:
        found = LOGGER_LINE.search(line)
        if found:
            label = re.match(r'\[(\w+)\] ', line[:found.start()] or ' ')
            labels.append(label.group(1) if label else None)
    return labels


def _unlabelled(lines):
    """The first logger lines without a label, for a failure's message."""
    return [
        '\n'.join(lines[max(0, i - 3):i + 3]) for i, line in enumerate(lines)
        if LOGGER_LINE.search(line) and not line.startswith('[')
    ][:3]


def test_cli_compares_sim_init_and_random(tmp_path, shapes_det_root, capsys,
                                          one_thread):
    """``SIM``, ``init`` (the quick start's pre-training config at its
    initialisation: 192 wide, 6 blocks) and ``random`` (the checkpoint's
    arch), one iteration each, one after another, through
    ``seg_quickstart.py``: metrics.json, the table, every run's lines
    labelled with its name."""
    path = str(tmp_path / 'sim.pth')
    save_sim_checkpoint(path, **TINY_SIM)
    capsys.readouterr()  # the model build's log, before the tool
    tool = runpy.run_path(osp.join(TOOLS, 'seg_quickstart.py'))
    work_dir = tmp_path / 'work'
    assert tool['main']([
        '--checkpoint', path, '--data-root', shapes_det_root, '--work-dir',
        str(work_dir), '--init-config', SIM_CONFIG, '--also-random-init',
        '--max-iters', '1', '--num-threads', '1'
    ]) == 0
    with open(work_dir / 'metrics.json') as f:
        results = json.load(f)
    assert list(results) == ['SIM', 'init', 'random']
    for metrics in results.values():
        check_metrics(metrics)
    captured = capsys.readouterr()
    table = captured.out.strip().splitlines()[-5:]
    assert table[0] == '| init | mIoU | aAcc | mAcc |'
    assert [row.split(' | ')[0] for row in table[2:]] == \
        ['| SIM', '| init', '| random']
    assert table == format_metrics(results, 'seg').splitlines()
    (dumped, ) = glob.glob(str(work_dir / 'init' / '*.py'))
    assert Config.fromfile(dumped).model.backbone.embed_dims == 192
    (dumped, ) = glob.glob(str(work_dir / 'random' / '*.py'))
    backbone = Config.fromfile(dumped).model.backbone
    assert (backbone.embed_dims, backbone.init_cfg) == (64, None)
    # the runs' lines, in order, each under its name
    lines = captured.out.splitlines()
    labels = _labels(lines)
    assert None not in labels, _unlabelled(lines)
    assert sorted(set(labels), key=labels.index) == ['SIM', 'init', 'random']
    assert any(line.startswith('[SIM] mapped ') for line in lines)
    assert captured.out.count('[init] mapped ') == 1
    assert 'mmseg IoUMetric (%) on the generated val set (9 classes, ' \
        'background included):' in lines


def test_parallel_runs_label_every_line(tmp_path, shapes_det_root):
    """``det_quickstart.py --parallel``: the two fine-tunes (1 iteration)
    print at once from two spawned processes, and every mmengine logger
    line on stdout and stderr carries its run's name."""
    path = str(tmp_path / 'sim.pth')
    save_sim_checkpoint(
        path, embed_dims=64, num_layers=2, num_heads=2, img_size=96)
    work_dir = tmp_path / 'work'
    done = subprocess.run([
        sys.executable,
        osp.join(TOOLS, 'det_quickstart.py'), '--checkpoint', path,
        '--also-random-init', '--parallel', '--max-iters', '1', '--data-root',
        shapes_det_root, '--work-dir',
        str(work_dir)
    ],
                          cwd=str(tmp_path),
                          env=cpu_subprocess_env(),
                          capture_output=True,
                          text=True,
                          timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    labels = _labels(output.splitlines())
    assert labels and None not in labels, _unlabelled(output.splitlines())
    assert set(labels) == {'SIM', 'random'}
    assert '[SIM] mapped ' in done.stdout
    with open(work_dir / 'metrics.json') as f:
        assert list(json.load(f)) == ['SIM', 'random']
    lines = done.stdout.strip().splitlines()
    assert lines[-5] == 'COCO AP (%) on the generated val set:'
    assert [row.split(' | ')[0] for row in lines[-2:]] == \
        ['| SIM', '| random']
