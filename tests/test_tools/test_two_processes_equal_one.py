# Copyright (c) mmsim contributors. All rights reserved.
"""Two gloo processes of tools/train.py train like one process with the
same global batch."""
import os.path as osp
import subprocess

import pytest
import torch

from tests._host import QUICKSTART_CONFIG
from tests._shapes_data import shapes_folder
from tests._subprocess_env import cpu_subprocess_env
from tests.test_tools.test_train import train_command

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = QUICKSTART_CONFIG  # the host's
GLOBAL_BATCH, ITERS = 8, 4  # 32 images, one epoch


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    return shapes_folder(tmp_path_factory, num_train=32, num_val=8)


def _config(path: str, data_root: str, batch_size: int,
            record_dir: str) -> str:
    """The quick-start config (its optimiser, schedule, momentum target,
    SyncBN neck, UniGrad head and pipeline) with a 2-layer encoder, one
    epoch, no kNN monitor, and one change for the comparison: each
    sample's augmentation draws are seeded by its index
    (PerSampleSeededDataset), so the same image gets the same views and
    mask in either run."""
    with open(path, 'w') as handle:
        handle.write(f"""
_base_ = {CONFIG!r}
custom_imports = dict(
    imports=['mmsim', 'tests.test_tools._batch_recorder',
             'tests.test_tools._seeded_dataset'],
    allow_failed_imports=False)
model = dict(backbone=dict(arch=dict(num_layers=2)))
train_dataloader = dict(
    batch_size={batch_size},
    dataset=dict(type='PerSampleSeededDataset',
                 data_root={data_root!r},
                 classes={data_root + 'meta/classes.txt'!r}))
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=1))
custom_hooks = [dict(type='BatchRecorderHook', out_dir={record_dir!r})]
""")
    return path


def _run(tmp_path, data_root, nproc: int) -> list:
    out = tmp_path / f'nproc{nproc}'
    out.mkdir()
    config = _config(
        str(out / 'cfg.py'), data_root, GLOBAL_BATCH // nproc, str(out))
    env = cpu_subprocess_env()
    done = subprocess.run(
        train_command(config, str(out / 'work'), nproc),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return [torch.load(out / f'rank{r}.pth') for r in range(nproc)]


def _relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


@pytest.mark.timeout(600)
def test_two_processes_match_one_on_the_same_global_batch(
        shapes_root, tmp_path):
    """``torchrun --nproc_per_node 2 tools/train.py`` with batch 4 per
    process and ``python tools/train.py`` with batch 8: mmengine's
    DefaultSampler gives global batch i the same 8 images in both
    (rank r takes every other index of the same permutation), UniGrad's
    correlation matrix and the neck's BatchNorm are averaged over the
    processes, and DDP averages the gradients; so the mean of the two
    processes' losses is the one process's loss at every iteration, and
    the weights (online and target) after 8 iterations agree."""
    single, = _run(tmp_path, shapes_root, 1)
    pair = _run(tmp_path, shapes_root, 2)
    assert [r['world_size'] for r in pair] == [2, 2]
    assert len(single['losses']) == len(pair[0]['losses']) == 2 * ITERS
    # the same images in every global batch, split between the ranks
    for i, batch in enumerate(single['batches']):
        pair_paths = pair[0]['batches'][i]['img_path'] + \
            pair[1]['batches'][i]['img_path']
        assert sorted(batch['img_path']) == sorted(pair_paths), i
        # ... with the same mask per image (per-sample seeding)
        masks = dict(zip(batch['img_path'], batch['mask']))
        for rank in pair:
            for path, mask in zip(rank['batches'][i]['img_path'],
                                  rank['batches'][i]['mask']):
                assert torch.equal(masks[path], mask), (i, path)
    mean_loss = torch.tensor([pair[0]['losses'], pair[1]['losses']]).mean(0)
    torch.testing.assert_close(
        mean_loss, torch.tensor(single['losses']), rtol=1e-5, atol=0)
    differences = []
    for key, value in single['weights'].items():
        if not value.is_floating_point():
            continue
        other = pair[0]['weights'][key]
        if key.endswith('attn.qkv.bias'):
            # The key bias adds q.b_k to every logit of a query's row, which
            # the softmax removes: its gradient is 0 up to rounding, and
            # AdamW (no decay on biases) turns that rounding into steps of
            # about lr in either run. It stays ~1e-5 and changes no output;
            # the query and value biases are compared like any weight.
            width = value.numel() // 3
            key_bias = slice(width, 2 * width)
            assert value[key_bias].norm() < 1e-4, key
            assert other[key_bias].norm() < 1e-4, key
            for name, part in (('q', slice(0, width)), ('v',
                                                        slice(2 * width,
                                                              None))):
                differences.append(
                    (_relative_difference(other[part],
                                          value[part]), f'{key}[{name}]'))
        else:
            differences.append((_relative_difference(other, value), key))
    assert len(differences) > 100
    worst = max(differences)
    assert worst[0] < 1e-5, worst
