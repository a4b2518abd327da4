# Copyright (c) mmsim contributors. All rights reserved.
"""The synthetic shapes dataset: determinism, layout, mmcls and COCO."""
import hashlib
import json
import os
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
from PIL import Image

from mmsim.datasets import SHAPE_CLASSES, generate_shapes_dataset
from .conftest import TINY_SHAPES

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def tree_digest(root: str) -> dict:
    """{relative path: sha1} of every file under ``root``."""
    digests = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                digests[osp.relpath(path, root)] = hashlib.sha1(
                    f.read()).hexdigest()
    return digests


def test_same_seed_same_bytes(shapes_root, tmp_path):
    generate_shapes_dataset(str(tmp_path / 'again'), **TINY_SHAPES)
    assert tree_digest(shapes_root) == tree_digest(str(tmp_path / 'again'))
    other = dict(TINY_SHAPES, seed=1)
    generate_shapes_dataset(str(tmp_path / 'other'), **other)
    first, second = tree_digest(shapes_root), tree_digest(
        str(tmp_path / 'other'))
    assert first.keys() == second.keys()
    assert first['train/circle/000000.jpg'] != second[
        'train/circle/000000.jpg']


def test_classification_layout(shapes_root):
    with open(osp.join(shapes_root, 'meta', 'classes.txt')) as f:
        assert tuple(f.read().split()) == SHAPE_CLASSES
    for split, num in (('train', TINY_SHAPES['num_train']),
                       ('val', TINY_SHAPES['num_val'])):
        with open(osp.join(shapes_root, 'meta', f'{split}.txt')) as f:
            lines = [line.split() for line in f.read().splitlines()]
        assert len(lines) == num
        for rel_path, label in lines:
            assert rel_path.split('/')[0] == SHAPE_CLASSES[int(label)]
            img = Image.open(osp.join(shapes_root, split, rel_path))
            assert img.mode == 'RGB'
            assert img.size == (TINY_SHAPES['img_size'], ) * 2
        written = {
            f'{c}/{n}'
            for c in os.listdir(osp.join(shapes_root, split))
            for n in os.listdir(osp.join(shapes_root, split, c))
        }
        assert written == {rel_path for rel_path, _ in lines}
        # classes in turn: every class is present
        assert {int(label) for _, label in lines} == set(range(8))


def test_loads_as_mmcls_datasets(shapes_root):
    from mmcls.datasets import CustomDataset, ImageNet
    dataset = CustomDataset(
        data_root=shapes_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        classes=osp.join(shapes_root, 'meta', 'classes.txt'))
    assert len(dataset) == TINY_SHAPES['num_train']
    assert dataset.CLASSES == SHAPE_CLASSES
    info = dataset.get_data_info(3)
    assert info['gt_label'] == 3
    assert info['img_path'] == osp.join(shapes_root, 'train', 'star',
                                        '000003.jpg')
    assert osp.exists(info['img_path'])
    # mmselfsup's pre-training configs use mmcls.ImageNet the same way.
    imagenet = ImageNet(
        data_root=shapes_root,
        ann_file='meta/val.txt',
        data_prefix=dict(img_path='val/'),
        metainfo=dict(classes=SHAPE_CLASSES))
    assert len(imagenet) == TINY_SHAPES['num_val']
    assert osp.exists(imagenet.get_data_info(0)['img_path'])


@pytest.mark.parametrize('split', ['train', 'val'])
def test_coco_annotations(shapes_root, split):
    from pycocotools.coco import COCO
    ann_file = osp.join(shapes_root, 'det', 'annotations',
                        f'instances_{split}.json')
    coco = COCO(ann_file)
    assert len(coco.getImgIds()) == TINY_SHAPES[f'num_det_{split}']
    cats = coco.loadCats(coco.getCatIds())
    assert [c['id'] for c in cats] == list(range(1, 9))
    assert tuple(c['name'] for c in cats) == SHAPE_CLASSES
    size = TINY_SHAPES['det_img_size']
    for img_id in coco.getImgIds():
        img_info = coco.loadImgs(img_id)[0]
        path = osp.join(shapes_root, 'det', split, img_info['file_name'])
        assert Image.open(path).size == (img_info['width'],
                                         img_info['height']) == (size, size)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        assert 1 <= len(anns) <= 4
        for ann in anns:
            assert ann['iscrowd'] == 0 and ann['area'] > 0
            assert 1 <= ann['category_id'] <= 8
            assert len(ann['segmentation']) == 1
            poly = np.array(ann['segmentation'][0]).reshape(-1, 2)
            assert len(poly) >= 3
            assert (poly >= 0).all() and (poly <= size).all()
            x, y, w, h = ann['bbox']
            np.testing.assert_allclose([x, y, x + w, y + h],
                                       [*poly.min(axis=0), *poly.max(axis=0)],
                                       atol=1e-6)
            # the rasterised polygon covers about its stated area
            mask = coco.annToMask(ann)
            assert abs(mask.sum() - ann['area']) <= 0.1 * ann['area'] + 8


def test_polygons_match_the_painted_coverage(shapes_root):
    """COCO's rasterised polygon and our anti-aliased drawing agree."""
    from pycocotools.coco import COCO

    from mmsim.datasets.shapes.outlines import _coverage
    coco = COCO(
        osp.join(shapes_root, 'det', 'annotations', 'instances_train.json'))
    ious = []
    for ann in coco.loadAnns(coco.getAnnIds()):
        rasterised = coco.annToMask(ann).astype(bool)
        outline = np.array(ann['segmentation'][0]).reshape(-1, 2)
        painted = _coverage(outline, TINY_SHAPES['det_img_size']) > 0.5
        ious.append(
            (rasterised & painted).sum() / (rasterised | painted).sum())
    assert min(ious) > 0.8 and np.mean(ious) > 0.9


@pytest.mark.parametrize('split', ['train', 'val'])
def test_label_maps_are_the_instance_masks(shapes_root, split):
    """Each label map holds, per pixel, the class of the object painted
    there (COCO category id = label + 1) or 0; its objects are those of
    the COCO file, apart from a ring's hole and overlaps."""
    from PIL import Image
    from pycocotools.coco import COCO
    coco = COCO(
        osp.join(shapes_root, 'det', 'annotations', f'instances_{split}.json'))
    for img_id in coco.getImgIds():
        info = coco.loadImgs(img_id)[0]
        label_map = np.asarray(
            Image.open(
                osp.join(shapes_root, 'det', 'labels', split,
                         info['file_name'].replace('.jpg', '.png'))))
        assert label_map.shape == (info['height'], info['width'])
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        objects = np.zeros_like(label_map, dtype=bool)
        for ann in anns:
            mask = coco.annToMask(ann).astype(bool)
            objects |= mask
            ring = SHAPE_CLASSES[ann['category_id'] - 1] == 'ring'
            # most of the object's pixels carry its class (overlaps and a
            # ring's hole excepted)
            share = (label_map[mask] == ann['category_id']).mean()
            assert share > (0.4 if ring else 0.6), (info, ann['id'])
        assert set(np.unique(label_map)) <= \
            {0} | {a['category_id'] for a in anns}
        # background outside every object (anti-aliased edges aside)
        assert (label_map[~objects] == 0).mean() > 0.99


def test_pretrain_list_holds_both_training_sets(shapes_root):
    with open(osp.join(shapes_root, 'meta', 'pretrain.txt')) as f:
        lines = [line.split() for line in f]
    with open(osp.join(shapes_root, 'meta', 'train.txt')) as f:
        cls_lines = [line.split() for line in f]
    num_cls = TINY_SHAPES['num_train']
    assert len(lines) == num_cls + TINY_SHAPES['num_det_train']
    assert lines[:num_cls] == [['train/' + p, label] for p, label in cls_lines]
    assert lines[num_cls] == ['det/train/000000.jpg', '-1']
    for path, _ in lines:
        assert osp.isfile(osp.join(shapes_root, path))


def test_skips_a_complete_set(shapes_root):
    manifest = osp.join(shapes_root, 'manifest.json')
    stamp = os.stat(manifest).st_mtime_ns
    before = tree_digest(shapes_root)
    result = generate_shapes_dataset(shapes_root, **TINY_SHAPES)
    assert result['params'] == {k: v for k, v in TINY_SHAPES.items()}
    assert os.stat(manifest).st_mtime_ns == stamp
    assert tree_digest(shapes_root) == before


def test_regenerates_on_new_params(tmp_path):
    root = str(tmp_path)
    small = dict(TINY_SHAPES, num_train=10, num_det_train=0, num_det_val=0)
    generate_shapes_dataset(root, **small)
    assert not osp.exists(osp.join(root, 'det'))
    generate_shapes_dataset(root, **dict(small, num_train=8))
    with open(osp.join(root, 'meta', 'train.txt')) as f:
        assert len(f.read().splitlines()) == 8
    files = [
        n for d in SHAPE_CLASSES if osp.isdir(osp.join(root, 'train', d))
        for n in os.listdir(osp.join(root, 'train', d))
    ]
    assert len(files) == 8  # the old set's extra images are gone
    with open(osp.join(root, 'manifest.json')) as f:
        assert json.load(f)['params']['num_train'] == 8


def test_refuses_foreign_folders(tmp_path):
    os.makedirs(tmp_path / 'train' / 'mine')
    with pytest.raises(FileExistsError, match='train'):
        generate_shapes_dataset(str(tmp_path), **TINY_SHAPES)
    assert osp.isdir(tmp_path / 'train' / 'mine')


@pytest.mark.parametrize('kwargs, name', [
    (dict(num_train=0), 'num_train'),
    (dict(num_val=-1), 'num_val'),
    (dict(img_size=8), 'img_size'),
    (dict(img_size=64.), 'img_size'),
    (dict(det_img_size=4096), 'det_img_size'),
    (dict(seed=-1), 'seed'),
    (dict(num_det_train=True), 'num_det_train'),
])
def test_bad_args_raise(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        generate_shapes_dataset(str(tmp_path), **kwargs)
    assert not os.listdir(tmp_path)


def test_cli(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / 'cli')
    monkeypatch.setattr(sys, 'argv', [
        'generate_shapes.py', out, '--num-train', '8', '--num-val', '0',
        '--img-size', '32', '--num-det-train', '2', '--num-det-val', '1',
        '--det-img-size', '64'
    ])
    runpy.run_path(
        osp.join(REPO, 'tools', 'data', 'generate_shapes.py'),
        run_name='__main__')
    assert 'shapes dataset in' in capsys.readouterr().out
    with open(osp.join(out, 'manifest.json')) as f:
        assert json.load(f)['params']['num_det_val'] == 1
    monkeypatch.setattr(sys, 'argv',
                        ['generate_shapes.py', out, '--img-size', '8'])
    with pytest.raises(SystemExit, match='img_size'):
        runpy.run_path(
            osp.join(REPO, 'tools', 'data', 'generate_shapes.py'),
            run_name='__main__')
