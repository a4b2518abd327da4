# Copyright (c) mmsim contributors. All rights reserved.
"""One SIM in two hosts: mmselfsup 1.0.0 and mmpretrain 1.2.0, each in its
own environment (.venv, .venv-mmpretrain; they cannot share a process),
give the same loss, gradients and target on the same weights and inputs,
and each loads the other's checkpoints."""
import os.path as osp
import subprocess

import pytest
import torch

from mmsim.transfer.mmseg import convert_sim_to_mmseg
from mmsim.transfer.vitdet import convert_sim_to_vitdet
from tests._host import HOST_NAME, REPO
from tests._shapes_data import shapes_folder
from tests._subprocess_env import cpu_subprocess_env

PYTHONS = dict(
    mmselfsup=osp.join(REPO, '.venv', 'bin', 'python'),
    mmpretrain=osp.join(REPO, '.venv-mmpretrain', 'bin', 'python'))

pytestmark = [
    pytest.mark.skipif(
        HOST_NAME != 'mmselfsup',
        reason='spawns both hosts; run once, in the mmselfsup pass'),
    pytest.mark.skipif(
        not all(osp.exists(p) for p in PYTHONS.values()),
        reason='needs both environments: bash tools/setup_env.sh and '
        'MMSIM_HOST=mmpretrain bash tools/setup_env.sh (tools/test.sh '
        'builds both)'),
]


def probe(host: str, *args: str) -> None:
    result = subprocess.run(
        [PYTHONS[host], '-m', 'tests.test_hosts._host_probe', *args],
        cwd=REPO,
        env=cpu_subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600)
    assert result.returncode == 0, f'{host}: {result.stderr[-3000:]}'


def random_inputs(batch=4, size=96, grid=6, num_masked=22):
    gen = torch.Generator().manual_seed(1)
    views = [torch.randn(batch, 3, size, size, generator=gen) for _ in '12']
    masks, rel_pos = [], []
    for _ in range(batch):
        mask = torch.zeros(grid * grid, dtype=torch.bool)
        mask[torch.randperm(grid * grid, generator=gen)[:num_masked]] = True
        masks.append(mask.view(grid, grid))
        pos = torch.rand(6, generator=gen)
        pos[2:4] += 0.5
        pos[4] = float(pos[4] > 0.5)
        rel_pos.append(pos)
    return dict(views=views, masks=masks, rel_pos=rel_pos)


def test_same_loss_gradients_and_target_in_both_hosts(tmp_path):
    inp = tmp_path / 'inputs.pth'
    torch.save(random_inputs(), inp)
    probe('mmselfsup', 'step', str(inp), str(tmp_path / 'mmselfsup.pth'))
    ours = torch.load(tmp_path / 'mmselfsup.pth')
    torch.save(dict(torch.load(inp), state=ours['state']), inp)
    probe('mmpretrain', 'step', str(inp), str(tmp_path / 'mmpretrain.pth'))
    theirs = torch.load(tmp_path / 'mmpretrain.pth')
    assert (ours['host'], theirs['host']) == ('mmselfsup', 'mmpretrain')
    assert ours['state'].keys() == theirs['state'].keys()  # one layout
    torch.testing.assert_close(theirs['loss'], ours['loss'], rtol=1e-6, atol=0)
    assert ours['grads'].keys() == theirs['grads'].keys()
    assert len(ours['grads']) > 50
    for name, grad in ours['grads'].items():
        torch.testing.assert_close(
            theirs['grads'][name],
            grad,
            rtol=1e-6,
            atol=1e-6 * grad.abs().max().item(),
            msg=lambda m, name=name: f'{name}: {m}')
    assert ours['target'].keys() == theirs['target'].keys()
    for name, value in ours['target'].items():
        torch.testing.assert_close(
            theirs['target'][name], value, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('writer, reader', [('mmselfsup', 'mmpretrain'),
                                            ('mmpretrain', 'mmselfsup')])
def test_a_checkpoint_of_one_host_loads_in_the_other(tmp_path_factory, writer,
                                                     reader):
    root = shapes_folder(
        tmp_path_factory,
        'hosts_shapes',
        num_train=8,
        num_val=0,
        num_det_train=0,
        num_det_val=0)
    work = tmp_path_factory.mktemp(f'{writer}_run')
    probe(writer, 'train', root, str(work))
    ckpt = work / 'iter_2.pth'
    out = work / 'loaded.pth'
    probe(reader, 'load', str(ckpt), str(out))
    saved = torch.load(ckpt, map_location='cpu')
    assert saved['meta']['cfg'].count(f"default_scope = '{writer}'") == 1
    loaded = torch.load(out)
    assert loaded['host'] == reader
    assert loaded['state'].keys() == saved['state_dict'].keys()
    for name, value in saved['state_dict'].items():
        torch.testing.assert_close(loaded['state'][name], value)
    # the transfer converters take it unchanged
    assert convert_sim_to_vitdet(saved['state_dict']).state_dict
    assert convert_sim_to_mmseg(saved['state_dict']).state_dict
