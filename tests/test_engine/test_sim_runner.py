# Copyright (c) mmsim contributors. All rights reserved.
"""SIM through mmengine's real Runner on the generated shapes data."""
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import Runner

from tests._host import QUICKSTART_CONFIG

CONFIG = QUICKSTART_CONFIG  # the host's


def quickstart_cfg(data_root, work_dir):
    """The quick-start config as shipped, on another generated set (all
    its readers: training, the kNN monitor and its dense probe), loading
    in-process."""
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_dataloader.dataset.classes = data_root + 'meta/classes.txt'
    for hook in cfg.custom_hooks:  # the kNN monitor reads the same data
        for loader in ('train_dataloader', 'val_dataloader'):
            hook[loader].dataset.data_root = data_root
        hook.dense_probe.data_root = data_root + 'det/'
    cfg.work_dir = work_dir
    # the hosts' runtime bases name every visualizer 'visualizer', and
    # mmengine returns an existing instance by name: without a name of its
    # own, a runner built after another in this process would write its
    # scalars into the first one's work dir
    cfg.visualizer.name = f'visualizer_{work_dir}'
    return cfg


def tiny_cfg(data_root, work_dir, max_epochs=2, **extra):
    cfg = quickstart_cfg(data_root, work_dir)
    cfg.model.backbone.arch.update(num_layers=2)
    cfg.train_dataloader.batch_size = 8
    cfg.train_cfg.max_epochs = max_epochs
    cfg.param_scheduler[1].T_max = max_epochs - 1
    cfg.param_scheduler[1].end = max_epochs
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook', interval=1)
    cfg.default_hooks.logger.interval = 1
    cfg.merge_from_dict(extra)
    return cfg


def _assert_states_equal(a, b):
    for key, value in a.items():
        if torch.is_tensor(value):
            torch.testing.assert_close(b[key], value, rtol=0, atol=0, msg=key)


def test_trains_saves_and_resumes_identically(shapes_root, tmp_path):
    """Train, checkpoint, resume: the resumed run holds the same weights,
    target (and its update count) and optimiser state, and its next step
    on the same batch gives exactly what the original run gives."""
    first = Runner.from_cfg(tiny_cfg(shapes_root, str(tmp_path / 'a')))
    first.train_loop._max_epochs = 1  # stop half-way through the schedule
    first.train()
    assert first.iter == 4
    ckpt = str(tmp_path / 'a' / 'epoch_1.pth')
    resumed = Runner.from_cfg(
        tiny_cfg(
            shapes_root, str(tmp_path / 'b'), resume=True, load_from=ckpt))
    resumed.train_loop._max_epochs = 1
    resumed.train()  # resumes after epoch 1: loads, trains nothing
    assert resumed.iter == 4
    state = first.model.state_dict()
    assert int(state['target.steps']) == 4
    _assert_states_equal(state, resumed.model.state_dict())
    opt_a = first.optim_wrapper.state_dict()['state']
    opt_b = resumed.optim_wrapper.state_dict()['state']
    assert opt_a.keys() == opt_b.keys() and len(opt_a) > 0
    for key in opt_a:
        _assert_states_equal(opt_a[key], opt_b[key])
    # the checkpoint loads back into SIM with no missing/unexpected keys
    saved = torch.load(ckpt, map_location='cpu')['state_dict']
    result = first.model.load_state_dict(saved, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    # identical continuation on one batch
    data = next(iter(first.train_dataloader))
    hub = MessageHub.get_current_instance()
    outputs = []
    for runner in (first, resumed):
        hub.update_info('iter', 4)
        hub.update_info('max_iters', 8)
        torch.manual_seed(0)
        outputs.append(runner.model.train_step(data, runner.optim_wrapper))
    torch.testing.assert_close(outputs[0]['loss'], outputs[1]['loss'])
    _assert_states_equal(first.model.state_dict(), resumed.model.state_dict())
