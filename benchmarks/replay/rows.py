# Copyright (c) mmsim contributors. All rights reserved.
"""The replay's rows and their one common start.

Every pre-training method starts its encoder from the same weights: the SIM
(release) encoder's initialisation at seed 0 (truncated-normal std 0.02
linears, zero biases, unit LayerNorms, xavier-uniform patch projection,
cls token N(0, 0.02), fixed 2-D sin-cos positions), saved once as
``backbone.*`` keys (:func:`save_common_init`) and loaded by every config's
model through a model-level ``Pretrained`` init
(:func:`write_start_config`),
which mmengine applies after the modules' own inits: MAE's and MoCo v3's
xavier-scale linears are replaced, SIM's target copies the loaded online
encoder, MoCo v3's momentum encoder copies it at the first step. The
methods' encoders share every key and shape but MAE's and MoCo v3's final
LayerNorm (``ln1``, at its unit / zero init in all of them). The
``random init`` row is that same state, never trained.
"""
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import torch

HERE = osp.dirname(osp.abspath(__file__))
CONFIG_DIR = osp.join(HERE, 'configs')
#: Pre-trained rows in the paper's order (spec section 5), then SIM's
#: ablation of its dense term.
METHODS = {
    'MoCo v3': 'mocov3_vit-tiny-p16_shapes.py',
    'MAE': 'mae_vit-tiny-p16_shapes.py',
    'SIM (paper: global + dense)': 'sim-paper_vit-tiny-p16_shapes.py',
    'SIM (global only)': 'sim-global_vit-tiny-p16_shapes.py',
    'SIM (release: dense)': 'sim-release_vit-tiny-p16_shapes.py',
}
#: The common start itself, evaluated like a pre-trained row.
RANDOM = 'random init (common start)'
#: Fine-tunes only: the detector's / segmentor's own initialisation of the
#: same backbone arch (ViTDet's, mmseg's MAE), as in the quick start.
OWN_INIT = "random init (task's own)"
#: The config whose model defines the common start.
INIT_CONFIG = METHODS['SIM (release: dense)']


def slug(name: str) -> str:
    """A short folder name for a row."""
    if name in METHODS:
        return METHODS[name].split('_')[0]
    return {RANDOM: 'random', OWN_INIT: 'own-init'}[name]


def config_path(name: str) -> str:
    """The pre-training config of a row (random init: the common start's)."""
    return osp.join(CONFIG_DIR, METHODS.get(name, INIT_CONFIG))


def build_model(config: str,
                checkpoint: Optional[str] = None,
                backbone_only: bool = False):
    """An mmselfsup model of ``config`` at its seed-0 init, optionally
    loaded from ``checkpoint``, in eval mode.

    Args:
        config (str): A pre-training config.
        checkpoint (str, optional): Weights to load: the whole model,
            strictly, or (``backbone_only``) ``backbone.*`` keys, which must
            be every key of the backbone.
        backbone_only (bool): See ``checkpoint``. Defaults to False.

    Returns:
        tuple: The model and its config.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmselfsup.registry import MODELS

    from mmsim.transfer import load_state_dict
    init_default_scope('mmselfsup')
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint is not None:
        state = load_state_dict(checkpoint)
        if backbone_only:
            state = {
                k[len('backbone.'):]: v
                for k, v in state.items() if k.startswith('backbone.')
            }
            model.backbone.load_state_dict(state, strict=True)
        else:
            model.load_state_dict(state, strict=True)
    return model.eval(), cfg


def save_common_init(path: str) -> str:
    """Write the common start (``backbone.*`` of the SIM release config's
    model at seed 0) to ``path``; returns ``path``."""
    model, _ = build_model(osp.join(CONFIG_DIR, INIT_CONFIG))
    state = {
        'backbone.' + k: v.detach().clone()
        for k, v in model.backbone.state_dict().items()
    }
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    torch.save(
        dict(state_dict=state, meta=dict(common_init=INIT_CONFIG)), path)
    return path


def write_start_config(name: str, common_init: str, path: str) -> str:
    """Write a config that is row ``name``'s pre-training config with its
    model starting from ``common_init``: the config's own model-level init
    (MAE's xavier linears, used by its decoder) followed by a
    ``Pretrained`` init, which mmengine applies last. Returns ``path``."""
    from mmengine.config import Config
    config = config_path(name)
    own = Config.fromfile(config).model.get('init_cfg') or []
    own = [own] if isinstance(own, dict) else list(own)
    init = [dict(c) for c in own
            ] + [dict(type='Pretrained', checkpoint=osp.abspath(common_init))]
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'# {name}: {osp.relpath(config, HERE)} from the replay\'s '
                'common start (benchmarks/replay/rows.py)\n'
                f'_base_ = {config!r}\n\nmodel = dict(init_cfg={init!r})\n')
    return path


def compare_to_common_init(model: torch.nn.Module,
                           common_init: str) -> Tuple[int, Dict[str, float]]:
    """How far a built, initialised model's encoder is from the common
    start: (keys compared, {key: max abs difference} where non-zero)."""
    from mmsim.transfer import load_state_dict
    state = load_state_dict(common_init)
    own = model.backbone.state_dict()
    diffs = {}
    for key, value in state.items():
        name = key[len('backbone.'):]
        diff = float((own[name].float() - value.float()).abs().max())
        if diff > 0:
            diffs[name] = diff
    return len(state), diffs
