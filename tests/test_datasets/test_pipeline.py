# Copyright (c) mmsim contributors. All rights reserved.
"""The pre-training data pipeline, as a config writes it, end to end."""
import os.path as osp

import torch
from mmengine.dataset import default_collate
from mmselfsup.registry import TRANSFORMS

COLOR_JITTER = dict(
    type='RandomApply',
    transforms=[
        dict(
            type='ColorJitter',
            brightness=0.4,
            contrast=0.4,
            saturation=0.2,
            hue=0.1)
    ],
    prob=0.8)
GRAYSCALE = dict(
    type='RandomGrayscale',
    prob=0.2,
    keep_channels=True,
    channel_weights=(0.114, 0.587, 0.2989))
VIEW_PIPELINES = [
    [
        COLOR_JITTER, GRAYSCALE,
        dict(type='RandomGaussianBlur', sigma_min=0.1, sigma_max=2., prob=1.)
    ],
    [
        COLOR_JITTER, GRAYSCALE,
        dict(type='RandomGaussianBlur', sigma_min=0.1, sigma_max=2., prob=0.1),
        dict(type='RandomSolarize', threshold=128, prob=0.2)
    ],
]
PIPELINE = [
    dict(type='SIMLoadImageFromFile', imdecode_backend='pillow'),
    dict(
        type='SIMTwoViewCrop',
        size=224,
        scale=(0.2, 1.),
        view_pipelines=VIEW_PIPELINES),
    dict(type='SIMBlockMaskGenerator', input_size=14, num_masking_patches=118),
    dict(
        type='PackSelfSupInputs',
        algorithm_keys=['mask'],
        pseudo_label_keys=['rel_pos'],
        meta_keys=['img_path']),
]


def test_pipeline_packs_views_mask_and_geometry(shapes_root):
    transforms = [TRANSFORMS.build(cfg) for cfg in PIPELINE]
    path = osp.join(shapes_root, 'train', 'circle', '000000.jpg')
    samples = []
    for _ in range(4):
        results = dict(img_path=path)
        for transform in transforms:
            results = transform(results)
        samples.append(results)
    packed = samples[0]
    assert len(packed['inputs']) == 2
    for view in packed['inputs']:
        assert view.shape == (3, 224, 224) and view.dtype == torch.uint8
    sample = packed['data_samples']
    assert sample.mask.value.shape == (14, 14)
    assert int(sample.mask.value.sum()) == 118
    assert sample.pseudo_label.rel_pos.shape == (6, )
    assert sample.pseudo_label.rel_pos.dtype == torch.float32
    assert sample.img_path == path
    batch = default_collate(samples)
    assert [v.shape for v in batch['inputs']] == [(4, 3, 224, 224)] * 2
    mask = torch.stack([s.mask.value for s in batch['data_samples']])
    assert mask.shape == (4, 14, 14) and mask.dtype == torch.bool
