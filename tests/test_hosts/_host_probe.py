# Copyright (c) mmsim contributors. All rights reserved.
"""Run in one host's environment by tests/test_hosts: SIM built from that
host's quick-start config, on weights and inputs given in a file.

    python -m tests.test_hosts._host_probe step IN.pth OUT.pth
        IN holds ``state`` (or nothing: the model's own init is saved),
        ``views`` and per-sample ``masks`` / ``rel_pos``; OUT gets the
        loss, every online gradient and the target after its update.
    python -m tests.test_hosts._host_probe train DATA_ROOT WORK_DIR
        Two iterations of the quick-start config through the host's
        runner (data at DATA_ROOT); the checkpoint is WORK_DIR/iter_2.pth.
    python -m tests.test_hosts._host_probe config OUT.pth [CONFIG ...]
        Saves the host's quick-start config as a plain dict; given
        CONFIG files, a dict of their plain dicts by path instead.
    python -m tests.test_hosts._host_probe load CKPT.pth OUT.pth
        Loads CKPT as the host's runner does for ``load_from`` and saves
        the model's state.
"""
import sys

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

import mmsim  # noqa: F401
from tests._host import HOST_NAME, MODELS, QUICKSTART_CONFIG, packed_sample


def build_model():
    cfg = Config.fromfile(QUICKSTART_CONFIG)
    with DefaultScope.overwrite_default_scope(HOST_NAME):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def step(inp: str, out: str) -> None:
    torch.manual_seed(0)
    model = build_model()
    data = torch.load(inp)
    if 'state' in data:
        model.load_state_dict(data['state'])
    samples = [
        packed_sample(mask, rel_pos)
        for mask, rel_pos in zip(data['masks'], data['rel_pos'])
    ]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    loss = model.loss(data['views'], samples)['loss']
    loss.backward()
    grads = {
        name: param.grad.clone()
        for name, param in model.named_parameters() if param.grad is not None
    }
    torch.save(
        dict(
            host=HOST_NAME,
            state=state,
            loss=loss.detach(),
            grads=grads,
            target=model.target.state_dict()), out)


def train(data_root: str, work_dir: str) -> None:
    from mmengine.runner import Runner
    cfg = Config.fromfile(QUICKSTART_CONFIG)
    cfg.work_dir = work_dir
    loader = cfg.train_dataloader
    loader.update(batch_size=4, num_workers=0)
    loader.dataset.update(
        data_root=data_root, classes=data_root + 'meta/classes.txt')
    cfg.train_cfg = dict(by_epoch=False, max_iters=2)
    cfg.param_scheduler = []
    cfg.custom_hooks = []
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook', interval=2, by_epoch=False)
    cfg.default_hooks.logger.interval = 1
    Runner.from_cfg(cfg).train()


def config(out: str, *paths: str) -> None:
    if paths:
        torch.save({path: Config.fromfile(path).to_dict()
                    for path in paths}, out)
    else:
        torch.save(Config.fromfile(QUICKSTART_CONFIG).to_dict(), out)


def load(ckpt: str, out: str) -> None:
    model = build_model()
    load_checkpoint(model, ckpt, map_location='cpu', strict=True)
    torch.save(dict(host=HOST_NAME, state=model.state_dict()), out)


if __name__ == '__main__':
    dict(
        step=step, train=train, config=config,
        load=load)[sys.argv[1]](*sys.argv[2:])
