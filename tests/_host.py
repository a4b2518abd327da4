# Copyright (c) mmsim contributors. All rights reserved.
"""The host toolbox this test process runs (mmselfsup or mmpretrain, one
per process: :mod:`mmsim.hosts`), for tests that run under both."""
import os.path as osp

import torch

from mmsim.hosts import host

HOST = host()
HOST_NAME = HOST.NAME
MODELS, TRANSFORMS, HOOKS, DATASETS = (HOST.MODELS, HOST.TRANSFORMS,
                                       HOST.HOOKS, HOST.DATASETS)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Each host's quick-start pre-training config.
QUICKSTART_CONFIGS = dict(
    mmselfsup=osp.join(REPO, 'configs', 'sim',
                       'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py'),
    mmpretrain=osp.join(REPO, 'configs', 'mmpretrain', 'sim',
                        'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py'))
QUICKSTART_CONFIG = QUICKSTART_CONFIGS[HOST_NAME]


def packed_sample(mask: torch.Tensor, rel_pos: torch.Tensor):
    """A data sample as the host's packing transform makes it for SIM.

    Args:
        mask (torch.Tensor): bool (G, G) view-1 mask.
        rel_pos (torch.Tensor): (6, ) view-2 geometry.

    Returns:
        A ``SelfSupDataSample`` (``mask.value``, ``pseudo_label.rel_pos``)
        or a ``DataSample`` (``mask``, ``rel_pos``).
    """
    if HOST_NAME == 'mmselfsup':
        from mmengine.structures import InstanceData
        from mmselfsup.structures import SelfSupDataSample
        sample = SelfSupDataSample()
        sample.mask = InstanceData(value=mask)
        sample.pseudo_label = InstanceData(rel_pos=rel_pos)
        return sample
    from mmpretrain.structures import DataSample
    sample = DataSample().set_mask(mask)
    sample.set_field(rel_pos.numpy(), 'rel_pos')  # as PackInputs: numpy
    return sample


def preprocess(model, batch: dict, training: bool = True):
    """``(inputs, data_samples)`` from the model's data preprocessor
    (mmselfsup's returns that tuple, mmpretrain's a dict)."""
    data = model.data_preprocessor(batch, training)
    if isinstance(data, dict):
        return data['inputs'], data['data_samples']
    return data


#: The classification toolbox's scope (mmcls beside mmselfsup, mmpretrain
#: itself) and the dataset and packing transform the tests name in it.
CLS_SCOPE = HOST.CLS_SCOPE
CUSTOM_DATASET = f'{CLS_SCOPE}.CustomDataset'
PACK_CLS_INPUTS = dict(
    mmselfsup='mmcls.PackClsInputs',
    mmpretrain='mmpretrain.PackInputs')[HOST_NAME]
