# Copyright (c) mmsim contributors. All rights reserved.
"""Kill a real training process (SIGKILL), resume it with ``--resume``,
and compare with a run that was never interrupted."""
import json
import os
import os.path as osp
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests._host import QUICKSTART_CONFIG
from tests._shapes_data import shapes_folder
from tests._subprocess_env import cpu_subprocess_env

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
CONFIG = QUICKSTART_CONFIG  # the host's
EPOCHS, ITERS_PER_EPOCH = 3, 4  # 32 images, batch 8
ENV = cpu_subprocess_env()


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    return shapes_folder(tmp_path_factory, num_train=32, num_val=8)


def _config(path: str,
            data_root: str,
            checkpoint: str,
            batch_size: int = 8,
            extra_hooks: str = '') -> str:
    """The quick-start config as shipped (a loading worker restarted every
    epoch, its seeds, AdamW, warm-up + cosine, the momentum target, the
    preemption hook) with a 2-layer encoder, batch 8 (or ``batch_size``
    per process), 3 epochs, a checkpoint every epoch (one kept), the loss
    of every iteration logged to losses.jsonl, no kNN monitor, and
    ``extra_hooks`` (config text of more hook dicts, comma-ended)."""
    with open(path, 'w') as handle:
        handle.write(f"""
_base_ = {CONFIG!r}
custom_imports = dict(
    imports=['mmsim', 'tests.test_tools._kill_probes'],
    allow_failed_imports=False)
model = dict(backbone=dict(arch=dict(num_layers=2)))
train_dataloader = dict(
    batch_size={batch_size},
    dataset=dict(data_root={data_root!r},
                 classes={data_root + 'meta/classes.txt'!r}))
train_cfg = dict(max_epochs={EPOCHS})
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max={EPOCHS - 1}, eta_min=0.,
         by_epoch=True, begin=1, end={EPOCHS}, convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=1), checkpoint={checkpoint})
custom_hooks = [dict(type='LossLogHook',
                     out_file='{{{{ fileDirname }}}}/losses.jsonl'),
                {extra_hooks}]
""")
    return path


def _start(config: str, work_dir: str, resume: bool) -> subprocess.Popen:
    """``python tools/train.py CONFIG --work-dir DIR [--resume]``, its
    output to DIR/stdout[-resumed].txt."""
    command = [sys.executable, TRAIN, config, '--work-dir', work_dir]
    if resume:
        command.append('--resume')
    name = 'stdout-resumed.txt' if resume else 'stdout.txt'
    with open(osp.join(work_dir, name), 'w') as out:
        return subprocess.Popen(
            command, cwd=REPO, env=ENV, stdout=out, stderr=subprocess.STDOUT)


def _output(work_dir: str, resume: bool = False) -> str:
    name = 'stdout-resumed.txt' if resume else 'stdout.txt'
    with open(osp.join(work_dir, name)) as f:
        return f.read()[-5000:]


def _losses(path: str) -> dict:
    """iteration -> loss, from the complete lines of a LossLogHook file."""
    losses = {}
    with open(path) as f:
        for line in f:
            if line.endswith('\n'):
                record = json.loads(line)
                losses[record['iter']] = record['loss']
    return losses


def _train(tmp_path, name, data_root, checkpoint, kill=None):
    """Train in a subprocess; ``kill(process, loss_file)`` may end it, then
    the run is resumed with ``--resume`` in the same work dir. Returns the
    work dir and the losses of the first and of the resumed process."""
    work_dir = str(tmp_path / name)
    os.makedirs(work_dir)
    config = _config(osp.join(work_dir, 'cfg.py'), data_root, checkpoint)
    loss_file = osp.join(work_dir, 'losses.jsonl')
    process = _start(config, work_dir, resume=False)
    if kill is None:
        assert process.wait(timeout=300) == 0, _output(work_dir)
        return work_dir, _losses(loss_file), {}
    kill(process, loss_file)
    assert process.wait(timeout=60) == -signal.SIGKILL, _output(work_dir)
    first = _losses(loss_file)
    os.rename(loss_file, loss_file + '.killed')
    resumed = _start(config, work_dir, resume=True)
    assert resumed.wait(timeout=300) == 0, _output(work_dir, resume=True)
    return work_dir, first, _losses(loss_file)


def _final_checkpoint(work_dir: str) -> dict:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        path = f.read()
    assert path == osp.join(work_dir, f'epoch_{EPOCHS}.pth')
    return torch.load(path)


def _assert_same_run(reference: dict, resumed: dict) -> None:
    assert resumed['meta']['iter'] == reference['meta']['iter'] == \
        EPOCHS * ITERS_PER_EPOCH
    state, expected = resumed['state_dict'], reference['state_dict']
    assert state.keys() == expected.keys()
    assert int(state['target.steps']) == EPOCHS * ITERS_PER_EPOCH
    for key, value in expected.items():  # online network and target
        torch.testing.assert_close(state[key], value, msg=key)
    opt, opt_ref = resumed['optimizer'], reference['optimizer']
    assert opt['param_groups'] == opt_ref['param_groups']
    for index, tensors in opt_ref['state'].items():
        for name, value in tensors.items():
            torch.testing.assert_close(
                opt['state'][index][name], value, msg=f'{index}.{name}')
    assert resumed['param_schedulers'] == reference['param_schedulers']


@pytest.fixture(scope='module')
def reference(shapes_root, tmp_path_factory):
    """The uninterrupted run."""
    work_dir, losses, _ = _train(
        tmp_path_factory.mktemp('reference'), 'run', shapes_root,
        "dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1)")
    assert sorted(losses) == list(range(1, EPOCHS * ITERS_PER_EPOCH + 1))
    return losses, _final_checkpoint(work_dir)


@pytest.mark.timeout(400)
def test_killed_at_a_random_moment_resumes_to_the_same_run(
        shapes_root, tmp_path, reference):
    """SIGKILL after a random iteration of epochs 2-3 (possibly inside the
    epoch-2 save); ``--resume`` continues from the last complete
    checkpoint and ends with the uninterrupted run's weights, target,
    optimiser and scheduler state, with the same losses on the way."""
    seed = int(os.environ.get('MMSIM_KILL_SEED', time.time_ns() % 10000))
    draw = random.Random(seed)
    kill_after = draw.randint(ITERS_PER_EPOCH + 1,
                              (EPOCHS - 1) * ITERS_PER_EPOCH + 2)
    delay = draw.uniform(0., 0.2)

    def kill(process, loss_file):
        deadline = time.time() + 240
        while time.time() < deadline and process.poll() is None:
            if osp.exists(loss_file) and len(_losses(loss_file)) >= \
                    kill_after:
                time.sleep(delay)
                break
            time.sleep(0.01)
        assert process.poll() is None, 'finished before it was killed'
        process.send_signal(signal.SIGKILL)

    work_dir, first, resumed = _train(
        tmp_path, 'killed', shapes_root,
        "dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1)",
        kill)
    ref_losses, ref_ckpt = reference
    note = f'MMSIM_KILL_SEED={seed}: killed after iteration {max(first)}'
    # it resumed from the end of an epoch at or before the kill
    start = min(resumed) - 1
    assert start % ITERS_PER_EPOCH == 0 and 0 < start <= max(first), note
    assert sorted(resumed) == list(
        range(start + 1, EPOCHS * ITERS_PER_EPOCH + 1)), note
    for step, loss in {**first, **resumed}.items():
        assert loss == pytest.approx(ref_losses[step], rel=1e-6), note
    _assert_same_run(ref_ckpt, _final_checkpoint(work_dir))
    assert not [n for n in os.listdir(work_dir) if n.endswith('.part')]


@pytest.mark.timeout(400)
def test_killed_in_the_middle_of_a_checkpoint_write(shapes_root, tmp_path,
                                                    reference):
    """Killed with half of epoch_2.pth written: the complete epoch_1.pth
    and a last_checkpoint naming it are what the disk holds; the resumed
    run removes the partial file, continues from epoch 1 and ends as the
    uninterrupted run."""
    states = {}

    def kill(process, loss_file):
        process.wait(timeout=240)  # the hook kills its own process
        names = sorted(os.listdir(osp.dirname(loss_file)))
        states['names'] = [
            n for n in names if n.endswith(('.pth', '.part', '_checkpoint'))
        ]
        with open(osp.join(osp.dirname(loss_file), 'last_checkpoint')) as f:
            states['last'] = osp.basename(f.read())

    work_dir, first, resumed = _train(
        tmp_path, 'killed', shapes_root,
        "dict(type='KilledMidWriteCheckpointHook', kill_at_epoch=2, "
        'interval=1, max_keep_ckpts=1)', kill)
    assert states == dict(
        names=['epoch_1.pth', 'epoch_2.pth.part', 'last_checkpoint'],
        last='epoch_1.pth')
    assert max(first) == 2 * ITERS_PER_EPOCH
    assert min(resumed) == ITERS_PER_EPOCH + 1
    ref_losses, ref_ckpt = reference
    for step, loss in resumed.items():
        assert loss == pytest.approx(ref_losses[step], rel=1e-6), step
    _assert_same_run(ref_ckpt, _final_checkpoint(work_dir))
    assert not [n for n in os.listdir(work_dir) if n.endswith('.part')]
