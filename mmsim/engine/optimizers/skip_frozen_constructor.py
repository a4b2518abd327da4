# Copyright (c) mmsim contributors. All rights reserved.
"""mmengine's default optimiser constructor that leaves frozen sub-modules
(a momentum target, a frozen patch embedding) out quietly."""
import logging
from collections import Counter
from typing import List, Optional, Tuple, Union

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

_PARAMWISE_PREFIX = 'paramwise_options -- '
_FROZEN_SUFFIX = ' is skipped since its requires_grad=False'


class _PerTensorLines(logging.Filter):
    """Drops the default constructor's per-tensor lines (an INFO line per
    trainable tensor, a WARNING per frozen one) and keeps the frozen
    tensors' names."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen: List[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.endswith(_FROZEN_SUFFIX):
            self.frozen.append(message[:-len(_FROZEN_SUFFIX)])
            return False
        return not message.startswith(_PARAMWISE_PREFIX)


def _number(value: object) -> str:
    return f'{value:g}' if isinstance(value, (int, float)) else str(value)


# In mmengine's root registry, so that every toolbox's scope (mmselfsup,
# mmcls, mmdet) and a build with no default scope find it.
@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SkipFrozenOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` that skips frozen sub-modules
    without a warning per tensor, and reports its groups in one line.

    With a ``paramwise_cfg`` (SIM's: no weight decay on biases, norms and
    1-d tensors) mmengine's constructor walks every parameter of the model
    and logs a WARNING ``... is skipped since its requires_grad=False`` for
    each frozen one (about 90 for the quick start's momentum target, the
    whole of which is frozen by design: it follows the online network by
    EMA; the whole backbone of a linear probe), plus an INFO line per
    trainable tensor. mmengine offers no option to silence either, and
    mmselfsup's ``LearningRateDecayOptimWrapperConstructor`` is a
    layer-decay rule for fine-tuning, hence this subclass. A sub-module
    none of whose parameters requires a gradient (``target``, a frozen
    ``backbone.patch_embed``) is left out of the parameter groups before
    the default rules run; a frozen tensor beside trainable ones (MAE's
    fixed ``pos_embed``) is skipped by mmengine as before, without its
    line. Everything else, ``paramwise_cfg`` semantics and the resulting
    groups included, is mmengine's. One INFO line counts the trainable
    tensors per (lr, weight decay) and names what is frozen.

    Without a ``paramwise_cfg`` mmengine passes ``model.parameters()``
    unchanged (no warnings; PyTorch's optimisers skip tensors without a
    gradient), and so does this class.

    Args:
        optim_wrapper_cfg (dict): As for ``DefaultOptimWrapperConstructor``.
        paramwise_cfg (dict, optional): As for
            ``DefaultOptimWrapperConstructor``.

    Examples:
        >>> optim_wrapper = dict(
        ...     constructor='SkipFrozenOptimWrapperConstructor',
        ...     optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
        ...     paramwise_cfg=dict(bias_decay_mult=0., norm_decay_mult=0.,
        ...                        flat_decay_mult=0.))
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        #: (prefix, number of tensors) of the sub-modules left out.
        self.frozen_modules: List[Tuple[str, int]] = []

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module: Optional[Union[int, float]] = None) -> None:
        """The default rules, minus sub-modules that are wholly frozen.

        Args:
            params (list[dict]): Parameter groups, extended in place.
            module (nn.Module): The module whose parameters are added.
            prefix (str): Its name in the model.
            is_dcn_module (int | float, optional): As mmengine's.
        """
        tensors = list(module.parameters())
        if tensors and not any(p.requires_grad for p in tensors):
            self.frozen_modules.append((prefix or '<model>', len(tensors)))
            return
        super().add_params(params, module, prefix, is_dcn_module)

    def __call__(self, model: nn.Module) -> OptimWrapper:
        """Build the optimiser wrapper of ``model`` (DDP-wrapped or not).

        Args:
            model (nn.Module): The model to optimise.

        Returns:
            OptimWrapper: As ``DefaultOptimWrapperConstructor`` builds it,
            without the wholly frozen sub-modules' parameters.
        """
        self.frozen_modules = []
        logger = MMLogger.get_current_instance()
        quiet = _PerTensorLines()
        logger.addFilter(quiet)
        try:
            optim_wrapper = super().__call__(model)
        finally:
            logger.removeFilter(quiet)
        self.frozen_modules += [(name, 1) for name in quiet.frozen]
        if self.paramwise_cfg:
            print_log(self._summary(optim_wrapper), logger='current')
        return optim_wrapper

    def _summary(self, optim_wrapper: OptimWrapper) -> str:
        defaults = optim_wrapper.optimizer.defaults
        groups: Counter = Counter()
        for group in optim_wrapper.optimizer.param_groups:
            key = (group.get('lr', defaults.get('lr')),
                   group.get('weight_decay', defaults.get('weight_decay')))
            groups[key] += len(group['params'])
        trainable = ', '.join(
            f'{n} at lr={_number(lr)}, weight_decay={_number(wd)}'
            for (lr, wd), n in sorted(groups.items(), key=lambda kv: -kv[1]))
        text = f'optimiser: {sum(groups.values())} tensors ({trainable})'
        if self.frozen_modules:
            frozen = ', '.join(f'{name} ({n})'
                               for name, n in self.frozen_modules)
            text += f'; frozen, not optimised: {frozen}'
        return text
