# Copyright (c) mmsim contributors. All rights reserved.
"""docs/from_authors_weights.md: the CPU rehearsal run as written on a
fake release at the quick start's size, and the keys of the ViT-B
commands."""
import json
import math
import os.path as osp
import shlex

import pytest
import torch
from mmengine.config import Config, DictAction

from ..test_det._release_checkpoint import release_shapes
from ._guide import check, command, make_workspace, read_guide
from ._guide import run as run_command

GUIDE = read_guide('from_authors_weights.md')
TINY = dict(
    depth=6, width=192, proj_depth=1, pred_depth=2, dec_width=192, grid=6)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory) -> str:
    """Section 5's set-up and conversions, as written."""
    root = make_workspace(str(tmp_path_factory.mktemp('authors')))
    for start in ('python -c', 'python tools/data/generate_shapes.py',
                  'python tools/model_converters/release_to_sim.py '
                  'sim_tiny_release.pth',
                  'python tools/model_converters/sim_to_vitdet.py --release '
                  'sim_tiny_release.pth'):
        check(run_command(command(GUIDE, start), root))
    return root


def _state(path: str) -> dict:
    return torch.load(path, map_location='cpu')


def test_conversions_keep_every_tensor(workspace):
    """The SIM file has all release tensors (less the two dropped) under
    their mmsim names, the target at steps 1, the licence in meta; the
    ViTDet file only the online encoder."""
    release = _state(osp.join(workspace, 'sim_tiny_release.pth'))['model']
    assert set(release) == set(release_shapes(**TINY))
    sim = _state(
        osp.join(workspace, 'checkpoints', 'sim-tiny-release_mmsim.pth'))
    assert 'CC-BY-NC' in sim['meta']['license']
    state = sim['state_dict']
    assert 'optimizer' not in sim and 'epoch' not in sim['meta']
    assert int(state['target.steps']) == 1
    assert torch.equal(state['backbone.layers.5.attn.qkv.weight'],
                       release['blocks.5.attn.qkv.weight'])
    assert torch.equal(
        state['target.module.backbone.layers.5.ffn.layers.1.weight'],
        release['mm_blocks.5.mlp.fc2.weight'])
    assert torch.equal(
        state['neck.predictor.blocks.1.bn1.running_mean'],
        release['predictor_decoder_blocks.1.norm1.bn.running_mean'])
    # each release tensor but the two dropped, once (pos_embed twice)
    assert len(state) == len(release) - 2 + 1 + 1
    vitdet = _state(
        osp.join(workspace, 'checkpoints', 'sim-tiny-release_vitdet.pth'))
    assert 'CC-BY-NC' in vitdet['meta']['license']
    assert not any(
        k.startswith(('target.', 'neck.', 'cls_token'))
        for k in vitdet['state_dict'])
    assert torch.equal(vitdet['state_dict']['layers.0.ln1.weight'],
                       release['blocks.0.norm1.weight'])


@pytest.mark.timeout(120)
def test_knn_and_dense_probe_read_the_converted_file(workspace):
    """Both tools load every backbone tensor and write their number."""
    output = check(
        run_command(
            command(GUIDE, 'python tools/benchmarks/classification/knn.py',
                    'shapes'), workspace))
    assert 'missing keys' not in output and 'unexpected key' not in output
    with open(
            osp.join(workspace, 'work_dirs', 'benchmarks', 'knn',
                     'vit-tiny-p16_knn-k20_shapes', 'knn.json')) as handle:
        result = json.load(handle)
    assert result['num_val'] == 8 and 0 <= result['top1'] <= 100
    check(
        run_command(
            command(
                GUIDE, 'python tools/benchmarks/classification/'
                'logistic_regression.py', 'shapes'), workspace))
    assert osp.isfile(
        osp.join(workspace, 'work_dirs', 'benchmarks', 'logistic_regression',
                 'vit-tiny-p16_logreg_shapes', 'logistic_regression.json'))
    output = check(
        run_command(
            command(GUIDE, 'python tools/benchmarks/dense_probe.py'),
            workspace))
    assert 'dense probe: mIoU' in output
    with open(
            osp.join(workspace, 'work_dirs', 'dense_probe',
                     'dense_probe.json')) as handle:
        assert math.isfinite(json.load(handle)['mIoU'])


@pytest.mark.timeout(120)
def test_detection_twin_fine_tunes_from_it(workspace):
    """The CPU twin of the COCO command, for 2 iterations; and the ViTDet
    file loads into the tiny detector's backbone tensor for tensor."""
    output = check(
        run_command(
            command(GUIDE, 'python tools/transfer_quickstart.py --task det'),
            workspace, ['--max-iters', '2']))
    assert '| SIM |' in output
    from mmsim.det import SIMViTDet
    path = osp.join(workspace, 'checkpoints', 'sim-tiny-release_vitdet.pth')
    backbone = SIMViTDet(
        arch=dict(
            embed_dims=192,
            num_layers=6,
            num_heads=3,
            feedforward_channels=768),
        img_size=96,
        pretrain_img_size=96,
        window_size=3,
        global_attn_indexes=(2, 5),
        init_cfg=dict(type='Pretrained', checkpoint=path))
    backbone.init_weights()
    loaded = backbone.state_dict()
    for key, value in _state(path)['state_dict'].items():
        assert torch.equal(loaded[key], value), key


@pytest.mark.timeout(120)
def test_continued_pre_training_starts_from_the_converted_weights(
        workspace, tmp_path):
    """Section 5's last command, one epoch at batch 4 without the monitor,
    and a hook that saves the weights as training starts: they are the
    converted file's, every tensor (target included); the log names it."""
    line = command(GUIDE, 'python tools/train.py')
    config = osp.join(workspace, 'configs', 'sim',
                      'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')
    start = str(tmp_path / 'start.pth')
    wrapper = tmp_path / 'with_start_weights.py'
    wrapper.write_text(f"""
_base_ = {config!r}
custom_imports = dict(
    imports=['mmsim', 'tests.test_docs._start_weights'],
    allow_failed_imports=False)
custom_hooks = [dict(type='StartWeightsHook', out={start!r})]
""")
    shrink = [
        'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0', 'default_hooks.logger.interval=1'
    ]
    output = check(
        run_command(
            line,
            workspace,
            shrink,
            replace={
                'configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py':
                str(wrapper)
            }))
    converted = 'checkpoints/sim-tiny-release_mmsim.pth'
    assert f'Load checkpoint from {converted}' in output
    expected = _state(osp.join(workspace, converted))['state_dict']
    weights = torch.load(start)
    assert set(weights) == set(expected)
    for key, value in expected.items():
        assert torch.equal(weights[key], value), key
    work_dir = osp.join(workspace, 'work_dirs', 'with_start_weights')
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert 'Epoch(train) [1][4/4]' in output  # from iteration 0
    assert 'nan' not in output.split('Epoch(train) [1][4/4]')[1].split(
        '\n')[0].lower()


def _merged(line: str) -> Config:
    """The config of a ``mim train`` command with its --cfg-options."""
    argv = shlex.split(line)
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
            argv[3]))
    if '--cfg-options' in argv:
        options = argv[argv.index('--cfg-options') + 1:]
        parsed = {}
        action = DictAction(option_strings=[], dest='o')
        for item in options:
            key, value = item.split('=', 1)
            parsed[key] = action._parse_iterable(value)
        cfg.merge_from_dict(parsed)
    return cfg


def test_vit_b_commands_set_the_keys_they_mean():
    """The GPU commands: the linear probe and COCO configs read the
    converted files through init_cfg; pre-training loads, not resumes."""
    linear = _merged(command(GUIDE, 'mim train mmcls'))
    init = linear.model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.prefix == 'backbone.'
    assert init.checkpoint == 'checkpoints/sim-release_mmsim.pth'
    coco = _merged(command(GUIDE, 'mim train mmdet'))
    assert coco.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='checkpoints/sim-release_vitdet.pth')
    pretrain = _merged(command(GUIDE, 'mim train mmselfsup'))
    assert pretrain.load_from == 'checkpoints/sim-release_mmsim.pth'
    assert pretrain.resume is False
    for start in ('python tools/benchmarks/classification/knn.py '
                  'configs/benchmarks/classification/imagenet/',
                  'python tools/benchmarks/classification/'
                  'logistic_regression.py'):
        cfg = Config.fromfile(
            osp.join(
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                command(GUIDE, start, 'imagenet').split()[2]))
        assert cfg.model.backbone.init_cfg.type == 'Pretrained'
