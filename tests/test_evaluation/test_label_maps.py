# Copyright (c) mmsim contributors. All rights reserved.
"""The class -> label maps of evaluation splits, and the check that they
agree."""
import pytest

from mmsim.evaluation import check_same_label_maps, label_map


class _Split:
    """What the check reads of a dataset: a folder scan's
    ``folder_to_idx`` or the metainfo's ``classes``, and the folder."""

    def __init__(self, folder, classes=None, scanned=None):
        self.data_prefix = dict(img_path=folder)
        self.metainfo = dict(classes=classes)
        if scanned is not None:
            self.folder_to_idx = {n: i for i, n in enumerate(scanned)}


def test_a_scan_gives_its_folder_numbers_before_the_class_names():
    """mmcls numbers scanned folders itself (sorted), whatever `classes`
    says: the scan's numbers are the ones the samples carry."""
    split = _Split('x/', classes=('b', 'a'), scanned=['a', 'b'])
    assert label_map(split) == {'a': 0, 'b': 1}
    assert label_map(_Split('x/', classes=('b', 'a'))) == {'b': 0, 'a': 1}
    assert label_map(_Split('x/')) is None


@pytest.mark.parametrize('train, val', [
    (_Split('t/', scanned=['a', 'b']), _Split('v/', scanned=['a', 'b'])),
    (_Split('t/', classes=('a', 'b')), _Split('v/', scanned=['a', 'b'])),
    (_Split('t/'), _Split('v/')),
])
def test_agreeing_splits_pass(train, val):
    check_same_label_maps(dict(train=train, val=val))


def test_same_names_in_another_order_are_refused():
    """The same classes numbered differently (an annotation file's
    `classes` in another order than the scan's) is the same error."""
    with pytest.raises(ValueError) as info:
        check_same_label_maps(
            dict(
                train=_Split('t/', classes=('dog', 'cat')),
                val=_Split('v/', scanned=['cat', 'dog'])), 'KNNMonitorHook')
    message = str(info.value)
    assert message.startswith('KNNMonitorHook: the train and val splits')
    assert "train (t/): 2 classes, labels 0.. in this order: ['dog', " \
        "'cat']" in message
    assert "val (v/): 2 classes, labels 0.. in this order: ['cat', " \
        "'dog']" in message
    assert 'only in' not in message  # the same names


def test_names_on_one_side_only_are_refused():
    with pytest.raises(ValueError, match=r'val \(v/\): no class names'):
        check_same_label_maps(
            dict(train=_Split('t/', classes=('a', 'b')), val=_Split('v/')))


def test_long_lists_are_cut():
    names = [f'c{i:03d}' for i in range(40)]
    with pytest.raises(ValueError, match=r"'c029'\], \.\.\. 10 more"):
        check_same_label_maps(
            dict(
                train=_Split('t/', scanned=names),
                val=_Split('v/', scanned=names[:-1])))
