# Copyright (c) mmsim contributors. All rights reserved.
"""The pre-training data pipelines the shipped configs build, end to end:
the ImageNet recipe's and the quick start's (which the replay benchmark's
SIM configs inherit), read from the configs themselves."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmselfsup.registry import TRANSFORMS

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'sim')
# config -> (view size, grid, masked patches, crop scale)
SHIPPED = {
    'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py':
    (224, 14, 118, (0.08, 1.)),
    'sim-global-dense_vit-base-p16_16xb256-amp-coslr-400e_in1k.py':
    (224, 14, 118, (0.2, 1.)),
    'sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py': (96, 6, 22, (0.2, 1.)),
}


@pytest.mark.parametrize('name', sorted(SHIPPED))
def test_shipped_pipeline_packs_views_mask_and_geometry(shapes_root, name):
    size, grid, masked, scale = SHIPPED[name]
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert [t.type for t in pipeline] == [
        'SIMLoadImageFromFile', 'SIMTwoViewCrop', 'SIMBlockMaskGenerator',
        'PackSelfSupInputs'
    ]
    assert pipeline[1].scale == scale
    transforms = [TRANSFORMS.build(cfg) for cfg in pipeline]
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
        assert view.shape == (3, size, size) and view.dtype == torch.uint8
    sample = packed['data_samples']
    assert sample.mask.value.shape == (grid, grid)
    assert int(sample.mask.value.sum()) == masked
    assert sample.pseudo_label.rel_pos.shape == (6, )
    assert sample.pseudo_label.rel_pos.dtype == torch.float32
    assert sample.img_path == path
    batch = default_collate(samples)
    assert [v.shape for v in batch['inputs']] == [(4, 3, size, size)] * 2
    mask = torch.stack([s.mask.value for s in batch['data_samples']])
    assert mask.shape == (4, grid, grid) and mask.dtype == torch.bool


@pytest.mark.parametrize('name', sorted(SHIPPED))
def test_shipped_colour_augmentation_is_the_spec(name):
    """Spec section 1: view 1 jitter p 0.8, grey p 0.2, blur p 1; view 2
    jitter p 0.8, grey p 0.2, blur p 0.1, solarize p 0.2."""
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    crop = cfg.train_dataloader.dataset.pipeline[1]
    view_1, view_2 = crop.view_pipelines
    assert [(t.type, t.prob) for t in view_1] == [('RandomApply', 0.8),
                                                  ('RandomGrayscale', 0.2),
                                                  ('RandomGaussianBlur', 1.)]
    assert [(t.type, t.prob) for t in view_2] == [('RandomApply', 0.8),
                                                  ('RandomGrayscale', 0.2),
                                                  ('RandomGaussianBlur', 0.1),
                                                  ('RandomSolarize', 0.2)]
    for view in (view_1, view_2):
        (jitter, ) = view[0].transforms
        assert (jitter.type, jitter.brightness, jitter.contrast,
                jitter.saturation, jitter.hue) == ('SIMColorJitter', .4, .4,
                                                   .2, .1)
        assert (view[2].sigma_min, view[2].sigma_max) == (0.1, 2.)
    assert view_2[3].threshold == 128
