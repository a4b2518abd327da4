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
        env=dict(cpu_subprocess_env(), MMSIM_HOST=host),  # not the caller's
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


def unscoped(value):
    """``value`` without the ``_scope_`` keys mmengine adds."""
    if isinstance(value, dict):
        return {k: unscoped(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(unscoped(v) for v in value)
    return value


def test_the_quick_start_twins_agree_but_for_the_host(tmp_path):
    """configs/mmpretrain's quick start is configs/sim's run: the same
    model, data, schedule and hooks; only what names a host's class
    differs (scope, dataset type, packing, blur / solarise, runner)."""
    cfgs = {}
    for host in PYTHONS:
        probe(host, 'config', str(tmp_path / f'{host}.pth'))
        cfgs[host] = unscoped(torch.load(tmp_path / f'{host}.pth'))
    ours, theirs = cfgs['mmselfsup'], cfgs['mmpretrain']
    assert (ours['default_scope'], theirs['default_scope']) == ('mmselfsup',
                                                                'mmpretrain')
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                'auto_scale_lr', 'log_processor', 'custom_imports'):
        assert theirs[key] == ours[key], key
    # mmpretrain's runtime spells out mmengine's default
    assert theirs['randomness'] == dict(
        ours['randomness'], deterministic=False)
    for key in ('logger', 'checkpoint', 'training_checks'):
        assert theirs['default_hooks'][key] == ours['default_hooks'][key]
    loader = {
        host: dict(cfg['train_dataloader'])
        for host, cfg in cfgs.items()
    }
    datasets = {host: dict(loader[host].pop('dataset')) for host in loader}
    assert loader['mmpretrain'] == loader['mmselfsup']
    pipelines = {host: datasets[host].pop('pipeline') for host in datasets}
    assert datasets['mmselfsup'].pop('type') == 'mmcls.CustomDataset'
    assert datasets['mmpretrain'].pop('type') == 'CustomDataset'
    assert datasets['mmpretrain'] == datasets['mmselfsup']
    # load, crop (colour aside), mask the same; pack per host
    assert pipelines['mmpretrain'][0] == pipelines['mmselfsup'][0]
    assert pipelines['mmpretrain'][2] == pipelines['mmselfsup'][2]
    crops = [dict(pipelines[host][1]) for host in PYTHONS]
    colours = [crop.pop('view_pipelines') for crop in crops]
    assert crops[0] == crops[1]
    for view_ours, view_theirs in zip(*colours):
        assert view_theirs[:2] == view_ours[:2]  # jitter, grey
        assert [t['prob'] for t in view_theirs[2:]] == \
            [t['prob'] for t in view_ours[2:]]
    hooks = [dict(cfg['custom_hooks'][0]) for cfg in cfgs.values()]
    for name in ('train_dataloader', 'val_dataloader'):
        splits = [dict(hook.pop(name)) for hook in hooks]
        for split in splits:
            split['dataset'] = {
                k: v
                for k, v in split['dataset'].items()
                if k not in ('type', 'pipeline')
            }
        assert splits[0] == splits[1]
    assert hooks[0] == hooks[1]
