# Copyright (c) mmsim contributors. All rights reserved.
"""A small synthetic dataset of textured shapes.

The project's built-in data: SIM pre-training and kNN evaluation on the
classification part, Mask R-CNN on the COCO-format instance part. Pure
numpy + Pillow, deterministic by seed (each image has its own generator
seeded by ``(seed, split, index)``, so a bigger set extends a smaller one).

Layout under ``out_dir``::

    train/<class>/<idx>.jpg, val/<class>/<idx>.jpg  one object per image
    meta/train.txt, meta/val.txt                    "<class>/<idx>.jpg <label>"
    meta/pretrain.txt                               both training sets, for
                                                    self-supervised learning
    meta/classes.txt                                one class name per line
    det/train/<idx>.jpg, det/val/<idx>.jpg          1-4 objects per image
    det/labels/{train,val}/<idx>.png                per-pixel class, 0 = bg
    det/annotations/instances_{train,val}.json      COCO, category ids from 1
    manifest.json                                   parameters, written last

Classification: ``dict(type='mmcls.CustomDataset', data_root=out_dir,
ann_file='meta/train.txt', data_prefix=dict(img_path='train/'))``.
Detection: ``dict(type='CocoDataset', data_root=out_dir + '/det/',
ann_file='annotations/instances_train.json', data_prefix=dict(img='train/'),
metainfo=dict(classes=SHAPE_CLASSES))``.
"""
from .generate import generate_shapes_dataset
from .outlines import SHAPE_CLASSES
from .render import render_classification_image, render_detection_image
from .textures import PATTERN_KINDS

__all__ = [
    'SHAPE_CLASSES', 'PATTERN_KINDS', 'generate_shapes_dataset',
    'render_classification_image', 'render_detection_image'
]
