# Copyright (c) mmsim contributors. All rights reserved.
"""The compared pre-training methods, built from their own configs.

Every method is built from its config file (SIM from ``configs/sim``,
MAE and MoCo v3 from mmselfsup's own ``.mim/configs``) with only the
encoder size changed, so each runs its real model, data preprocessor,
train pipeline and optimiser wrapper.
"""
import copy
import importlib
import os.path as osp
from typing import Dict, List

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _host_configs(host: str) -> str:
    """The folder of a host package's own self-supervised configs."""
    package = importlib.import_module(host)
    configs = osp.join(osp.dirname(package.__file__), '.mim', 'configs')
    return osp.join(configs, 'selfsup') if host == 'mmselfsup' else configs


def config_files(host: str = 'mmselfsup') -> Dict[str, str]:
    """Config file of each compared method (ViT-B form) in ``host``: SIM
    from this repository (``configs/sim`` or ``configs/mmpretrain/sim``),
    MAE and MoCo v3 from the host's own ``.mim/configs``."""
    sim = osp.join(REPO_ROOT, 'configs',
                   *(('mmpretrain', ) if host == 'mmpretrain' else ()), 'sim')
    theirs = _host_configs(host)
    return {
        'sim_release':
        osp.join(sim, 'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py'),
        'sim_paper':
        osp.join(
            sim,
            'sim-global-dense_vit-base-p16_16xb256-amp-coslr-400e_in1k.py'),
        'mae':
        osp.join(theirs, 'mae',
                 'mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k.py'),
        'mocov3':
        osp.join(theirs, 'mocov3',
                 'mocov3_vit-base-p16_16xb256-amp-coslr-300e_in1k.py'),
    }


#: Display names of the methods.
METHOD_NAMES: Dict[str, str] = {
    'sim_release': 'SIM (release: dense UniGrad)',
    'sim_paper': 'SIM (paper: global + dense)',
    'mae': 'MAE (mmselfsup 1.0.0)',
    'mocov3': 'MoCo v3 (mmselfsup 1.0.0)',
}

#: Encoder sizes. ViT-S is DeiT-S (6 heads of 64) for every method;
#: mmselfsup's own ``mocov3-small`` arch uses 12 heads of 32 instead.
#: ``tiny`` is for smoke tests only.
ENCODERS: Dict[str, dict] = {
    'vit-s':
    dict(
        embed_dims=384, num_layers=12, num_heads=6, feedforward_channels=1536),
    'vit-b':
    dict(
        embed_dims=768, num_layers=12, num_heads=12,
        feedforward_channels=3072),
    'tiny':
    dict(embed_dims=64, num_layers=1, num_heads=2, feedforward_channels=128),
}

#: SIM neck per encoder: width = encoder width (as the release's ViT-B
#: recipe), heads of 64 channels for ViT-S (6) and the recipe's 16 for
#: ViT-B.
SIM_NECKS: Dict[str, dict] = {
    'vit-s':
    dict(in_channels=384, embed_dims=384, num_heads=6),
    'vit-b':
    dict(in_channels=768, embed_dims=768, num_heads=16),
    'tiny':
    dict(
        in_channels=64,
        embed_dims=64,
        num_heads=2,
        num_projector_layers=1,
        num_predictor_layers=1),
}


def method_config(method: str,
                  encoder: str,
                  host: str = 'mmselfsup') -> Config:
    """The config of ``method`` with its encoder set to ``encoder``.

    Args:
        method (str): A key of :func:`config_files`.
        encoder (str): A key of :data:`ENCODERS`.
        host (str): ``mmselfsup`` or ``mmpretrain`` (whose configs).

    Returns:
        mmengine.Config: The full config (model, pipeline, optim wrapper).
    """
    files = config_files(host)
    if method not in files:
        raise KeyError(f'unknown method {method!r}; expected one of '
                       f'{sorted(files)}')
    if encoder not in ENCODERS:
        raise KeyError(f'unknown encoder {encoder!r}; expected one of '
                       f'{sorted(ENCODERS)}')
    cfg = Config.fromfile(files[method])
    arch = copy.deepcopy(ENCODERS[encoder])
    width = arch['embed_dims']
    model = cfg.model
    if encoder == 'vit-b':
        return cfg  # the configs are ViT-B already ('b'/'base' as above)
    model.backbone.arch = arch
    if method.startswith('sim'):
        model.neck.update(SIM_NECKS[encoder])
    elif method == 'mae':
        model.neck.embed_dim = width
        if encoder == 'tiny':
            model.neck.update(
                decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2)
    elif method == 'mocov3':
        model.neck.in_channels = width
        if encoder == 'tiny':
            model.neck.update(hid_channels=64, out_channels=32)
            model.head.predictor.update(
                in_channels=32, hid_channels=64, out_channels=32)
    return cfg


def train_pipeline(cfg: Config) -> List[dict]:
    """The train pipeline of a method's config."""
    return copy.deepcopy(cfg.train_dataloader.dataset.pipeline)


def cpu_optim_wrapper_cfg(cfg: Config, device: str) -> dict:
    """The config's optimiser wrapper; fp32 ``OptimWrapper`` on CPU.

    mmengine's ``AmpOptimWrapper`` needs CUDA (or NPU/MLU); on CPU the same
    optimiser, parameter-wise settings and clipping run in fp32.

    Args:
        cfg (Config): A method's config.
        device (str): ``'cpu'`` or ``'cuda'``.

    Returns:
        dict: Optimiser wrapper config for ``build_optim_wrapper``.
    """
    wrapper = copy.deepcopy(cfg.optim_wrapper)
    if device == 'cpu' and wrapper.get('type') == 'AmpOptimWrapper':
        wrapper['type'] = 'OptimWrapper'
        wrapper.pop('loss_scale', None)
        wrapper.pop('dtype', None)
    return wrapper
