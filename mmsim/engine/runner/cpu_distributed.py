# Copyright (c) mmsim contributors. All rights reserved.
"""Distributed training on machines without CUDA, without patching mmengine.

mmengine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` before
``init_process_group``, so ``--launcher pytorch`` stops on a CPU machine
with "Found no NVIDIA driver on your system", whatever ``dist_cfg`` says;
and its default DDP wrapper passes ``device_ids=[LOCAL_RANK]``, which a CPU
module refuses. mmengine skips ``init_dist`` when a process group already
exists and builds the wrapper from ``model_wrapper_cfg``, so the two helpers
here, used by :class:`~mmsim.engine.runner.SIMRunner`, are all it takes.
"""
import copy
import datetime
import os
from typing import Optional

import torch.distributed as torch_dist
from mmengine.logging import print_log
from mmengine.registry import MODEL_WRAPPERS
from torch.nn.parallel import DistributedDataParallel

#: Environment variables ``torch.distributed.run`` (torchrun) sets.
LAUNCH_ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')


def init_cpu_process_group(launcher: str, dist_cfg: dict) -> None:
    """Join the gloo process group of a CPU run started by torchrun.

    Args:
        launcher (str): The runner's launcher; only 'pytorch' (the
            environment of ``torch.distributed.run``) works without CUDA.
        dist_cfg (dict): ``env_cfg.dist_cfg``: ``backend`` (anything but
            'gloo' is replaced by 'gloo', with a warning: nccl needs GPUs)
            and ``timeout`` in seconds; other keys go to
            ``init_process_group``.

    Raises:
        RuntimeError: Another launcher, or a launch environment without
            the variables of :data:`LAUNCH_ENV`.
    """
    if launcher != 'pytorch':
        raise RuntimeError(
            f'launcher={launcher!r} needs CUDA; on a machine without GPUs '
            "use --launcher pytorch under 'python -m torch.distributed.run "
            "--nproc_per_node N tools/train.py CONFIG --launcher pytorch'")
    missing = [name for name in LAUNCH_ENV if name not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch without the variables {missing}: start the '
            "processes with 'python -m torch.distributed.run "
            "--nproc_per_node N tools/train.py CONFIG --launcher pytorch'")
    kwargs = copy.deepcopy(dist_cfg)
    backend = kwargs.pop('backend', 'gloo')
    if backend != 'gloo':
        print_log(
            f"env_cfg.dist_cfg.backend={backend!r} needs GPUs; this machine "
            "has none, so the processes use 'gloo'",
            logger='current',
            level='WARNING')
    if kwargs.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    kwargs.pop('init_backend', None)
    torch_dist.init_process_group(
        backend='gloo',
        init_method='env://',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)


def cpu_model_wrapper_cfg(model_wrapper_cfg: Optional[dict],
                          find_unused_parameters: bool = False) -> dict:
    """A ``model_wrapper_cfg`` whose DDP wraps a CPU module.

    Args:
        model_wrapper_cfg (dict, optional): The config's own; None gives
            mmengine's default wrapper (``MMDistributedDataParallel`` with
            ``broadcast_buffers=False``).
        find_unused_parameters (bool): For the default wrapper, as the
            config's ``find_unused_parameters``. Defaults to False.

    Returns:
        dict: The same wrapper with ``device_ids=None`` (the setting DDP
        expects for CPU modules) unless the config sets ``device_ids``.
    """
    if model_wrapper_cfg is None:
        return dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=find_unused_parameters)
    cfg = copy.deepcopy(model_wrapper_cfg)
    cfg.setdefault('type', 'MMDistributedDataParallel')
    wrapper = MODEL_WRAPPERS.get(cfg['type']) if isinstance(
        cfg['type'], str) else cfg['type']
    if isinstance(wrapper, type) and issubclass(wrapper,
                                                DistributedDataParallel):
        cfg.setdefault('device_ids', None)
    return cfg
