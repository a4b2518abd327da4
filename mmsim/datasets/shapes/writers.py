# Copyright (c) mmsim contributors. All rights reserved.
"""Writers of the set's files: classification folders and lists, COCO
annotations with per-pixel label maps, the pre-training list."""
import json
import os
import os.path as osp

import numpy as np
from PIL import Image

from .outlines import SHAPE_CLASSES, _bbox, _polygon_area
from .render import render_classification_image, render_detection_image

_SPLIT_CODES = {'train': 0, 'val': 1, 'det_train': 2, 'det_val': 3}


def _save(img: np.ndarray, path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(img).save(path, quality=95)


def _write_classification(out_dir: str, split: str, num: int, img_size: int,
                          seed: int) -> None:
    lines = []
    for idx in range(num):
        label = idx % len(SHAPE_CLASSES)
        rel_path = f'{SHAPE_CLASSES[label]}/{idx:06d}.jpg'
        img = render_classification_image((seed, _SPLIT_CODES[split], idx),
                                          img_size, label)
        _save(img, osp.join(out_dir, split, rel_path))
        lines.append(f'{rel_path} {label}\n')
    with open(osp.join(out_dir, 'meta', f'{split}.txt'), 'w') as f:
        f.writelines(lines)


def _write_detection(out_dir: str, split: str, num: int, img_size: int,
                     seed: int, version: int) -> None:
    images, annotations = [], []
    for idx in range(num):
        img, objects, label_map = render_detection_image(
            (seed, _SPLIT_CODES[f'det_{split}'], idx), img_size)
        file_name = f'{idx:06d}.jpg'
        _save(img, osp.join(out_dir, 'det', split, file_name))
        _save(label_map,
              osp.join(out_dir, 'det', 'labels', split, f'{idx:06d}.png'))
        images.append(
            dict(
                id=idx + 1,
                file_name=file_name,
                width=img_size,
                height=img_size))
        for label, outline in objects:
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=idx + 1,
                    category_id=label + 1,
                    bbox=_bbox(outline),
                    area=_polygon_area(outline),
                    iscrowd=0,
                    segmentation=[outline.reshape(-1).tolist()]))
    coco = dict(
        info=dict(description='mmsim synthetic shapes', version=version),
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i + 1, name=name, supercategory='shape')
            for i, name in enumerate(SHAPE_CLASSES)
        ])
    ann_dir = osp.join(out_dir, 'det', 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    with open(osp.join(ann_dir, f'instances_{split}.json'), 'w') as f:
        json.dump(coco, f)


def _write_pretrain_list(out_dir: str, num_det_train: int) -> None:
    """``meta/pretrain.txt``: the classification and the detection training
    images (paths relative to ``out_dir``) for pre-training; the label of a
    detection image is -1 (it has several objects; pre-training uses none).
    """
    with open(osp.join(out_dir, 'meta', 'train.txt')) as f:
        lines = [f'train/{line}' for line in f]
    lines += [f'det/train/{idx:06d}.jpg -1\n' for idx in range(num_det_train)]
    with open(osp.join(out_dir, 'meta', 'pretrain.txt'), 'w') as f:
        f.writelines(lines)
