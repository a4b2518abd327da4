# Copyright (c) mmsim contributors. All rights reserved.
"""SkipFrozenOptimWrapperConstructor: mmengine's groups, without the frozen
momentum target and without a warning per frozen tensor."""
import logging

import pytest
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor, build_optim_wrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, DefaultScope

from tests._host import CLS_SCOPE, HOST_NAME, MODELS
from tests._model_cfgs import tiny_sim_cfg

OPTIM_WRAPPER = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
PARAMWISE = dict(bias_decay_mult=0., norm_decay_mult=0., flat_decay_mult=0.)


class _Records(logging.Handler):

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _build(constructor, model, paramwise_cfg):
    """The optimiser wrapper and every record logged while building it."""
    logger = MMLogger.get_instance(
        f'skip_frozen_{constructor}_{id(model)}_{bool(paramwise_cfg)}')
    logger.setLevel(logging.INFO)
    handler = _Records()
    logger.addHandler(handler)
    try:
        wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(
                type=constructor,
                optim_wrapper_cfg=OPTIM_WRAPPER,
                paramwise_cfg=paramwise_cfg))(
                    model)
    finally:
        logger.removeHandler(handler)
    return wrapper, handler.records


def _groups(wrapper, model):
    names = {id(p): n for n, p in model.named_parameters()}
    return [(tuple(names[id(p)]
                   for p in g['params']), g['lr'], g['weight_decay'])
            for g in wrapper.optimizer.param_groups]


def test_same_groups_as_mmengine_without_the_warnings():
    """SIM's paramwise_cfg: mmengine's constructor warns once per frozen
    tensor (the whole target and the frozen patch embedding) and logs one
    INFO line per trainable one; this one builds the very same groups and
    logs a single summary line naming what was left out."""
    model = MODELS.build(tiny_sim_cfg(backbone=dict(frozen_patch_embed=True)))
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert any(n.startswith('target.') for n in frozen)
    default, default_logs = _build('DefaultOptimWrapperConstructor', model,
                                   PARAMWISE)
    ours, logs = _build('SkipFrozenOptimWrapperConstructor', model, PARAMWISE)

    assert _groups(ours, model) == _groups(default, model)
    assert sum(r.levelno == logging.WARNING
               for r in default_logs) == len(frozen)
    assert [r for r in logs if r.levelno >= logging.WARNING] == []
    (summary, ) = [r.getMessage() for r in logs]
    trainable = sum(p.requires_grad for p in model.parameters())
    assert summary.startswith(f'optimiser: {trainable} tensors (')
    assert 'weight_decay=0.05' in summary and 'weight_decay=0,' in summary
    assert 'frozen, not optimised: backbone.patch_embed (2), target (' \
        in summary
    assert not any(
        n.startswith('target.') for g in _groups(ours, model) for n in g[0])


def test_a_frozen_tensor_beside_trainable_ones_is_named_once():
    """A frozen tensor in a module that also trains (MAE's fixed
    pos_embed): mmengine skips it as before, and the summary names it
    instead of a WARNING line."""
    model = MODELS.build(tiny_sim_cfg())
    model.backbone.cls_token.requires_grad_(False)
    default, _ = _build('DefaultOptimWrapperConstructor', model, PARAMWISE)
    ours, logs = _build('SkipFrozenOptimWrapperConstructor', model, PARAMWISE)
    assert _groups(ours, model) == _groups(default, model)
    assert [r for r in logs if r.levelno >= logging.WARNING] == []
    (summary, ) = [r.getMessage() for r in logs]
    assert summary.endswith(', backbone.cls_token (1)')


def test_without_paramwise_cfg_it_is_mmengine():
    model = MODELS.build(tiny_sim_cfg())
    ours, logs = _build('SkipFrozenOptimWrapperConstructor', model, None)
    default, _ = _build('DefaultOptimWrapperConstructor', model, None)
    assert _groups(ours, model) == _groups(default, model)
    assert logs == []


def test_found_from_every_scope_and_a_default_subclass():
    """Registered in mmengine's root registry, so builds under the host's
    (mmselfsup's or mmpretrain's), mmcls's, mmdet's or mmengine's scope find
    it (a test that built the quick start's optimiser outside mmselfsup's
    scope failed in CI)."""
    model = MODELS.build(tiny_sim_cfg())
    cfg = dict(
        constructor='SkipFrozenOptimWrapperConstructor',
        paramwise_cfg=PARAMWISE,
        **OPTIM_WRAPPER)
    for scope in dict.fromkeys((HOST_NAME, CLS_SCOPE, 'mmdet', 'mmengine')):
        with DefaultScope.overwrite_default_scope(scope):
            wrapper = build_optim_wrapper(model, cfg)
        assert len(wrapper.optimizer.param_groups) > 1
    cls = OPTIM_WRAPPER_CONSTRUCTORS.get('SkipFrozenOptimWrapperConstructor')
    assert issubclass(cls, DefaultOptimWrapperConstructor)
    with pytest.raises(ValueError, match='base_wd'):
        cls(dict(optimizer=dict(type='AdamW', lr=1e-3)), PARAMWISE)
