# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.tasks: the two tasks, and one table for both."""
import pytest

from mmsim.transfer import TASKS, format_metrics, run_finetunes
from mmsim.transfer.tasks import get_task


def test_the_tasks():
    assert sorted(TASKS) == ['det', 'seg']
    assert TASKS['det'].backbone_file == 'sim_vitdet_backbone.pth'
    assert TASKS['seg'].backbone_file == 'sim_mmseg_backbone.pth'
    with pytest.raises(
            ValueError, match=r"one of \['det', 'seg'\], got 'cls'"):
        get_task('cls')
    with pytest.raises(ValueError, match="got 'cls'"):
        run_finetunes('cls', 'config.py', dict(SIM=dict(work_dir='w')))


def test_detection_table_shows_coco_fractions_as_percentages():
    metrics = {
        'coco/bbox_mAP': 0.434,
        'coco/bbox_mAP_50': 0.687,
        'coco/segm_mAP': 0.4341,
        'coco/segm_mAP_50': 0.684
    }
    table = format_metrics(dict(SIM=metrics, random={})).splitlines()
    assert table == [
        '| init | bbox_mAP | bbox_mAP_50 | segm_mAP | segm_mAP_50 |',
        '|---|---|---|---|---|', '| SIM | 43.4 | 68.7 | 43.4 | 68.4 |',
        '| random | nan | nan | nan | nan |'
    ]
    assert format_metrics(dict(SIM=metrics), 'det') == \
        format_metrics(dict(SIM=metrics))
    assert format_metrics(
        dict(SIM=metrics), keys=['bbox_mAP']).splitlines()[2] == \
        '| SIM | 43.4 |'


def test_segmentation_table_shows_iou_metric_percentages():
    table = format_metrics(
        dict(SIM=dict(mIoU=54.66, aAcc=90.0, mAcc=61.04)), 'seg')
    assert table.splitlines() == [
        '| init | mIoU | aAcc | mAcc |', '|---|---|---|---|',
        '| SIM | 54.7 | 90.0 | 61.0 |'
    ]
