# Copyright (c) mmsim contributors. All rights reserved.
"""A hook the multi-process training test imports (``custom_imports``):
each rank saves what its batches held and its final weights."""
import os.path as osp

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from tests._host import HOOKS, HOST


@HOOKS.register_module()
class BatchRecorderHook(Hook):
    """Save ``rank{r}.pth``: masks, view geometry and image paths of every
    batch, the losses, the world size, the runner's class and the final
    weights.

    Args:
        out_dir (str): Folder of the records.
    """

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.batches = []
        self.losses = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        samples = data_batch['data_samples']
        masks, rel_pos = zip(*map(HOST.view_geometry, samples))
        self.batches.append(
            dict(
                mask=torch.stack(masks),
                rel_pos=torch.stack(rel_pos),
                img_path=[s.img_path for s in samples]))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        self.losses.append(float(outputs['loss']))

    def after_train(self, runner) -> None:
        model = runner.model
        wrapped = is_model_wrapper(model)
        weights = (model.module if wrapped else model).state_dict()
        torch.save(
            dict(
                batches=self.batches,
                losses=self.losses,
                world_size=get_world_size(),
                runner=type(runner).__name__,
                wrapper=type(model).__name__,
                weights={
                    k: v.detach().clone()
                    for k, v in weights.items()
                }), osp.join(self.out_dir, f'rank{get_rank()}.pth'))
