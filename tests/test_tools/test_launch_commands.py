# Copyright (c) mmsim contributors. All rights reserved.
"""The launch commands of docs/multi_gpu.md that run on a CPU machine."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests._host import HOST_NAME, QUICKSTART_CONFIG
from tests._subprocess_env import cpu_subprocess_env
from tests.test_tools.test_train import (REPO, TRAIN, _free_port,
                                         _load_train_tool, _tiny_config)

ENV = cpu_subprocess_env()


@pytest.mark.timeout(300)
def test_two_nodes_of_one_process_each(shapes_root, tmp_path):  # noqa: F811
    """The guide's multi-node torchrun command, once per 'node' (here both
    on this machine): ``--nnodes 2 --node_rank {0,1} --master_addr ...``.
    The two processes form one group and train in step."""
    config = _tiny_config(
        str(tmp_path / 'tiny.py'), shapes_root, str(tmp_path))
    port = str(_free_port())
    nodes = [
        subprocess.Popen([
            sys.executable, '-m', 'torch.distributed.run', '--nnodes', '2',
            '--node_rank',
            str(rank), '--nproc_per_node', '1', '--master_addr', '127.0.0.1',
            '--master_port', port, TRAIN, config, '--launcher', 'pytorch',
            '--work-dir',
            str(tmp_path / 'work')
        ],
                         cwd=REPO,
                         env=ENV,
                         stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT,
                         text=True) for rank in (0, 1)
    ]
    outputs = [node.communicate(timeout=240)[0] for node in nodes]
    for node, out in zip(nodes, outputs):
        assert node.returncode == 0, out[-5000:]
    ranks = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    assert [r['world_size'] for r in ranks] == [2, 2]
    assert [len(r['batches']) for r in ranks] == [2, 2]
    for key, value in ranks[0]['weights'].items():
        torch.testing.assert_close(
            ranks[1]['weights'][key], value, rtol=0, atol=0, msg=key)


def test_auto_scale_lr_scales_by_the_total_batch(shapes_root,
                                                 tmp_path):  # noqa: F811,E501
    """``tools/train.py CFG --auto-scale-lr``: one process of batch 4
    against the quick start's base_batch_size=32 trains at lr / 8, and the
    log's ``base_lr`` (mmengine's bookkeeping group, which its own
    ``scale_lr`` leaves unscaled) says so at every iteration."""
    from mmsim.engine import SIMRunner
    tool = _load_train_tool()
    config = _tiny_config(
        str(tmp_path / 'tiny.py'), shapes_root, str(tmp_path))
    args = tool.parse_args(
        [config, '--auto-scale-lr', '--work-dir',
         str(tmp_path / 'work')])
    cfg = tool.build_config(args)
    assert cfg.auto_scale_lr == dict(base_batch_size=32, enable=True)
    runner = SIMRunner.from_cfg(cfg)
    runner.train()
    groups = runner.optim_wrapper.param_groups
    assert 'base_lr' in runner.optim_wrapper.get_lr()
    initial = [g['initial_lr'] for g in groups]
    assert initial == [pytest.approx(2.5e-4 * 4 / 32)] * len(groups)
    hub = runner.message_hub
    logged_base = hub.get_scalar('train/base_lr').data[0]
    logged = hub.get_scalar('train/lr').data[0]
    assert len(logged) == runner.iter
    assert logged_base.tolist() == pytest.approx(logged.tolist(), rel=1e-6)


def test_auto_scale_lr_needs_a_base_batch(tmp_path):
    tool = _load_train_tool()
    config = tmp_path / 'no_base.py'
    config.write_text(f'_base_ = {QUICKSTART_CONFIG!r}\n'
                      'auto_scale_lr = dict(_delete_=True)\n')
    with pytest.raises(
            ValueError,
            match=r'--auto-scale-lr needs '
            r'auto_scale_lr.base_batch_size .* in .*no_base.py'):
        tool.build_config(tool.parse_args([str(config), '--auto-scale-lr']))


@pytest.mark.timeout(300)
def test_mim_train_of_the_host_trains(shapes_root, tmp_path):
    """``mim train mmselfsup|mmpretrain CFG``: the toolbox's own
    tools/train.py trains the quick start and writes its checkpoint;
    mmpretrain's honours ``runner_type`` (SIMRunner), mmselfsup 1.0.0's
    builds mmengine's plain Runner (docs/reliability.md)."""
    config = _tiny_config(
        str(tmp_path / 'tiny.py'), shapes_root, str(tmp_path))
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    done = subprocess.run([
        mim, 'train', HOST_NAME, config, '--work-dir',
        str(tmp_path / 'work')
    ],
                          cwd=REPO,
                          env=ENV,
                          capture_output=True,
                          text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    record = torch.load(tmp_path / 'rank0.pth')
    assert record['runner'] == dict(
        mmselfsup='Runner', mmpretrain='SIMRunner')[HOST_NAME]
    assert record['world_size'] == 1 and len(record['batches']) == 4
    assert osp.exists(tmp_path / 'work' / 'epoch_1.pth')
