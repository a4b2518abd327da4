# Copyright (c) mmsim contributors. All rights reserved.
"""SIMRunner.build_dataloader: a loader of no batch fails with the file and
the setting (mmengine/mmcls alone: "need at least one array to
concatenate" and "epoch_length must be a positive integer, but got 0")."""
import pytest
from mmengine.runner import Runner

from mmsim.engine import EmptyDataError, SIMRunner
from tests._host import CLS_SCOPE, CUSTOM_DATASET
from tests._shapes_data import shapes_folder


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> str:
    return shapes_folder(tmp_path_factory, num_train=6, num_val=2)


def loader_cfg(data_root,
               ann_file='meta/train.txt',
               batch_size=4,
               drop_last=True):
    return dict(
        batch_size=batch_size,
        num_workers=0,
        drop_last=drop_last,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            type=CUSTOM_DATASET,
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=dict(img_path='train/'),
            pipeline=[]))


def test_a_loader_with_batches_builds(shapes_root):
    loader = SIMRunner.build_dataloader(loader_cfg(shapes_root), seed=0)
    assert len(loader) == 1  # 6 images, batch 4, drop_last


@pytest.mark.parametrize('content,before', [
    ('', 'need at least one array to concatenate'),
    ('\n  \n', 'not enough values to unpack'),
])
def test_empty_annotation_file_is_named(shapes_root, tmp_path, content,
                                        before):
    ann = tmp_path / 'empty.txt'
    ann.write_text(content)
    cfg = loader_cfg(shapes_root, ann_file=str(ann))
    with pytest.raises(ValueError, match=before):
        Runner.build_dataloader(cfg)  # what mmengine and mmcls alone say
    with pytest.raises(EmptyDataError) as info:
        SIMRunner.build_dataloader(cfg)
    assert f'the annotation file {ann} of {CUSTOM_DATASET}' in str(info.value)
    assert 'is empty' in str(info.value)


def test_relative_annotation_file_is_resolved_under_data_root(shapes_root):
    open(shapes_root + 'meta/none.txt', 'w').close()
    with pytest.raises(EmptyDataError, match=f'{shapes_root}meta/none.txt'):
        SIMRunner.build_dataloader(
            loader_cfg(shapes_root, ann_file='meta/none.txt'))


def test_a_dataset_with_no_samples_is_named(shapes_root, tmp_path):
    # OpenMMLab's JSON annotation format with an empty data list
    ann = tmp_path / 'train.json'
    ann.write_text('{"metainfo": {}, "data_list": []}')
    cfg = loader_cfg(shapes_root, ann_file=str(ann))
    cfg['dataset']['type'] = f'{CLS_SCOPE}.BaseDataset'
    with pytest.raises(ValueError, match='need at least one array'):
        Runner.build_dataloader(cfg)
    with pytest.raises(EmptyDataError, match='has no samples') as info:
        SIMRunner.build_dataloader(cfg)
    assert f'{CLS_SCOPE}.BaseDataset ({ann})' in str(info.value)


def test_fewer_images_than_one_batch_names_the_setting(shapes_root):
    cfg = loader_cfg(shapes_root, batch_size=8)
    assert len(Runner.build_dataloader(cfg)) == 0  # mmengine: 0 batches
    with pytest.raises(EmptyDataError) as info:
        SIMRunner.build_dataloader(cfg)
    message = str(info.value)
    assert f'{shapes_root}meta/train.txt' in message
    assert '6 samples, 6 per process over 1 process(es)' in message
    assert 'batch_size=8, drop_last=True' in message
    assert 'train_dataloader.batch_size=6' in message
    # without drop_last the short batch is kept: no error
    assert len(
        SIMRunner.build_dataloader(
            loader_cfg(shapes_root, batch_size=8, drop_last=False))) == 1
