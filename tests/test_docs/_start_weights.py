# Copyright (c) mmsim contributors. All rights reserved.
"""A hook the guide tests import (``custom_imports``): save the model's
weights as training starts, after mmengine has loaded ``load_from``."""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmselfsup.registry import HOOKS


@HOOKS.register_module()
class StartWeightsHook(Hook):
    """Save ``{key: tensor}`` of the model to ``out`` in ``before_train``.

    Args:
        out (str): The ``.pth`` to write.
    """

    def __init__(self, out: str) -> None:
        self.out = out

    def before_train(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        torch.save({
            k: v.clone()
            for k, v in model.state_dict().items()
        }, self.out)
