# Copyright (c) mmsim contributors. All rights reserved.
"""SIM as the recipe config builds it, for the GPU check.

The model, its data preprocessor, train pipeline and optimiser wrapper all
come from one pre-training config (by default the ViT-B release recipe of
the host the process runs), so the check times the same step a user's run
takes. ``reduced`` swaps in a 1-block, 64-wide encoder and neck for the
CPU run the tests make.
"""
import copy
import os.path as osp
from typing import Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import DefaultScope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: The ViT-B release recipe of each host.
RECIPES = dict(
    mmselfsup=osp.join(REPO, 'configs', 'sim',
                       'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py'),
    mmpretrain=osp.join(REPO, 'configs', 'mmpretrain', 'sim',
                        'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py'))

#: Names of the precisions, and the dtype each autocasts to.
PRECISIONS = dict(bf16=torch.bfloat16, fp16=torch.float16, fp32=None)


def host_name() -> str:
    """The host toolbox mmsim registers in (importing mmsim and it)."""
    import mmsim  # noqa: F401  (registers SIM's components)
    from mmsim.hosts import host
    return host().NAME


def load_config(config: Optional[str] = None, reduced: bool = False) -> Config:
    """The pre-training config (default: the host's ViT-B recipe).

    Args:
        config (str, optional): A SIM pre-training config file.
        reduced (bool): Swap in the 1-block encoder and neck.

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(config or RECIPES[host_name()])
    if cfg.model.get('type') != 'SIM':
        raise ValueError(f'{config}: model.type is '
                         f"{cfg.model.get('type')!r}; the GPU check times "
                         'SIM pre-training configs')
    if reduced:  # the training-cost benchmark's tiny SIM
        from benchmarks.training_cost.models import ENCODERS, SIM_NECKS
        cfg.model.backbone.arch = copy.deepcopy(ENCODERS['tiny'])
        cfg.model.neck.update(copy.deepcopy(SIM_NECKS['tiny']))
    return cfg


def build_model(cfg: Config, device: str) -> torch.nn.Module:
    """SIM from ``cfg.model``, initialised, in train mode on ``device``."""
    from mmsim.hosts import host
    with DefaultScope.overwrite_default_scope(host_name()):
        model = host().MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    return model.to(device).train()


def build_wrapper(model: torch.nn.Module,
                  cfg: Config,
                  precision: str,
                  clip_grad: bool = True) -> OptimWrapper:
    """The config's optimiser (its parameter-wise settings) in an
    ``AmpOptimWrapper`` of ``precision`` (bf16, fp16: dynamic loss
    scale) or an fp32 ``OptimWrapper``.

    Args:
        model (nn.Module): The model.
        cfg (Config): Its config.
        precision (str): A key of :data:`PRECISIONS`.
        clip_grad (bool): Keep the config's gradient clipping (mmengine
            reads the gradient norm on the host when it clips).

    Returns:
        OptimWrapper: The wrapper.
    """
    wrapper = copy.deepcopy(cfg.optim_wrapper)
    wrapper.pop('loss_scale', None)
    wrapper.pop('dtype', None)
    if not clip_grad:
        wrapper.pop('clip_grad', None)
    if precision == 'fp32':
        wrapper['type'] = 'OptimWrapper'
    else:
        wrapper.update(
            type='AmpOptimWrapper',
            dtype='bfloat16' if precision == 'bf16' else 'float16',
            loss_scale='dynamic')
    return build_optim_wrapper(model, wrapper)


def runner_iteration(iteration: int, max_iters: int = 100000) -> None:
    """Publish the iteration as mmengine's runner does, so the model runs
    its in-runner path (checks kept on the device, no host reads)."""
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', iteration)
    hub.update_info('max_iters', max_iters)


#: Why the check's pipeline jitters no hue under numpy >= 2.
NUMPY2_HUE_NOTE = (
    "numpy >= 2: the batch's colour jitter has hue 0 (mmcv 2.1's "
    "adjust_hue raises OverflowError for a negative hue under numpy 2); "
    'the pixels differ, the step does not')


def _without_hue(node):
    """A copy of a pipeline config with every ``hue`` set to 0."""
    if isinstance(node, dict):
        return {
            key: 0. if key == 'hue' else _without_hue(value)
            for key, value in node.items()
        }
    if isinstance(node, (list, tuple)):
        return [_without_hue(item) for item in node]
    return node


def base_batch(cfg: Config, image_dir: str,
               num_images: int) -> Tuple[dict, Optional[str]]:
    """``num_images`` generated JPEGs through the config's train pipeline,
    collated (tile with ``batches.tile_batch`` to any batch size).

    Returns:
        tuple[dict, str | None]: The batch, and a note when the pipeline
        had to be changed (:data:`NUMPY2_HUE_NOTE`).
    """
    import numpy as np

    from benchmarks.training_cost.batches import make_batch
    from benchmarks.training_cost.images import generate_jpegs
    paths = generate_jpegs(image_dir, num_images)
    pipeline = copy.deepcopy(cfg.train_dataloader.dataset.pipeline)
    note = None
    if int(np.__version__.split('.')[0]) >= 2:
        pipeline, note = _without_hue(pipeline), NUMPY2_HUE_NOTE
    with DefaultScope.overwrite_default_scope(host_name()):
        return make_batch(pipeline, paths, num_images), note


def model_inputs(model: torch.nn.Module, batch: dict) -> Tuple[list, list]:
    """``(inputs, data_samples)`` on the model's device from its data
    preprocessor (the hosts' return a tuple / a dict)."""
    data = model.data_preprocessor(batch, True)
    if isinstance(data, dict):
        return data['inputs'], data['data_samples']
    return data
