# Copyright (c) mmsim contributors. All rights reserved.
"""Every shipped training config gives each rank its own random draws."""
import os.path as osp
import re

import pytest
from mmengine.config import Config

from tests._shipped_configs import REPO, SHIPPED_CONFIGS

CONFIGS = [p for p in SHIPPED_CONFIGS if '_base_' not in p]
RANDOM_STEP = re.compile(
    r'Random|RandAugment|SIMTwoViewCrop|SIMBlockMask|MultiView')


def _step_types(pipeline):
    """Types of a pipeline's steps, nested ones (RandomApply, views)
    included."""
    for step in pipeline or ():
        if isinstance(step, (list, tuple)):
            yield from _step_types(step)
        elif isinstance(step, dict):
            yield str(step.get('type'))
            for key in ('transforms', 'view_pipelines', 'pipelines'):
                yield from _step_types(step.get(key))


def _train_pipeline(cfg):
    dataset = cfg.get('train_dataloader', {}).get('dataset')
    while dataset is not None and 'pipeline' not in dataset:
        dataset = dataset.get('dataset')
    return dataset.get('pipeline') if dataset is not None else None


def test_the_sweep_sees_the_training_configs():
    assert len(CONFIGS) >= 20


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_training_configs_seed_each_rank(path):
    """mmengine seeds every rank alike unless ``diff_rank_seed=True``:
    then ranks loading in-process (num_workers=0), and the model's own
    draws (drop path) on every rank, repeat each other."""
    cfg = Config.fromfile(path)
    steps = list(_step_types(_train_pipeline(cfg)))
    if 'train_cfg' not in cfg or not any(map(RANDOM_STEP.search, steps)):
        pytest.skip('not trained with random augmentation')
    assert cfg.get('randomness', {}).get('diff_rank_seed') is True, \
        f'{path}: randomness={cfg.get("randomness")}'
