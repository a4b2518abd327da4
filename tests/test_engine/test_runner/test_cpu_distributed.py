# Copyright (c) mmsim contributors. All rights reserved.
"""The CPU launch helpers (the 2-process run itself is in
tests/test_tools/test_train.py)."""
import pytest

from mmsim.engine import cpu_model_wrapper_cfg, init_cpu_process_group


def test_default_wrapper_is_mmengines_with_cpu_device_ids():
    assert cpu_model_wrapper_cfg(
        None, find_unused_parameters=True) == dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=True)


def test_own_wrapper_keeps_its_settings():
    own = dict(type='MMDistributedDataParallel', broadcast_buffers=True)
    cfg = cpu_model_wrapper_cfg(own)
    assert cfg == dict(own, device_ids=None)
    assert 'device_ids' not in own  # the config is not modified
    pinned = dict(device_ids=[3])
    assert cpu_model_wrapper_cfg(pinned)['device_ids'] == [3]


def test_other_launchers_are_refused():
    with pytest.raises(RuntimeError, match="launcher='slurm' needs CUDA"):
        init_cpu_process_group('slurm', dict(backend='gloo'))


def test_missing_launch_environment_is_named(monkeypatch):
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(
            RuntimeError, match="without the variables.*'RANK'") as info:
        init_cpu_process_group('pytorch', dict(backend='gloo'))
    assert 'torch.distributed.run --nproc_per_node N' in str(info.value)
