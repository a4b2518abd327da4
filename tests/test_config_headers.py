# Copyright (c) mmsim contributors. All rights reserved.
"""The iteration counts the shipped configs state in their comments are the
ones their loaders give.

For an epoch-based config the test recomputes, from the dataset's size,
the GPUs of the config's name (``16xb256``: 16), the loader's batch, its
``drop_last`` and the sampler's ``round_up``, the iterations per epoch
(mmengine's ``DefaultSampler`` pads every process to ``ceil(N / GPUs)``
samples) and in total, and checks:

- the sentence ``Iterations: N images / (G GPUs x B), last batch dropped
  (or kept): I per epoch, T in total.``, where a config has one;
- every other count of iterations or steps, ``I per epoch`` or ``T in
  total`` its comments name.

For an iteration-based one every ``I iterations`` is ``max_iters``, and a
``E epochs = I iterations x B images / M images per epoch`` adds up.
"""
import inspect
import io
import math
import os.path as osp
import re
import tokenize

import pytest
from mmengine.config import Config

from mmsim.datasets.shapes import generate_shapes_dataset
from tests._shipped_configs import REPO, SHIPPED_CONFIGS


def _replay_num_train() -> int:
    with open(osp.join(REPO, 'benchmarks', 'replay', 'run.py')) as f:
        found = re.search(r"'--num-train',\s*type=int,\s*default=(\d+)",
                          f.read())
    return int(found.group(1))


# Training images behind each data root the configs use.
DATASET_SIZES = {
    'data/imagenet':
    1281167,  # ImageNet-1k train (spec section 5)
    'data/shapes':
    inspect.signature(generate_shapes_dataset).parameters['num_train'].
    default,  # tools/data/generate_shapes.py's default
    'data/replay_shapes':
    _replay_num_train(),  # benchmarks/replay/run.py
}
NUMBER = r'(\d[\d,]*)'
SENTENCE = re.compile(r'Iterations: ' + NUMBER +
                      r' images / \((\d+) GPUs? x (\d+)\), last '
                      r'batch (dropped|kept)(?: \([^)]*\))?: ' + NUMBER +
                      r' per epoch, ' + NUMBER + r' in total')
COUNT = re.compile(NUMBER + r'[- ](?:iterations?|steps?)\b')
PER_EPOCH = re.compile(NUMBER + r' per epoch')
IN_TOTAL = re.compile(NUMBER + r' in total')
EPOCHS = re.compile(r'([\d.]+) epochs = ' + NUMBER + r' iterations x (\d+) '
                    r'images / ' + NUMBER + r' images per epoch')


def _int(text: str) -> int:
    return int(text.replace(',', ''))


def comments(path: str) -> str:
    """The file's comments, joined by single spaces."""
    with open(path) as f:
        tokens = tokenize.generate_tokens(io.StringIO(f.read()).readline)
        texts = [
            t.string.lstrip('#') for t in tokens if t.type == tokenize.COMMENT
        ]
    return ' '.join(' '.join(texts).split())


def gpus_and_batch(path: str, cfg: Config):
    batch = cfg.train_dataloader.batch_size
    named = re.search(r'_(\d+)xb(\d+)', osp.basename(path))
    if named is None:
        return 1, batch
    assert int(named.group(2)) == batch, 'the name says another batch'
    return int(named.group(1)), batch


def expected_iterations(path: str, cfg: Config):
    """(images, GPUs, batch, drop_last, per epoch, total) of an
    epoch-based config, or None where its data size is not known."""
    loader = cfg.get('train_dataloader')
    root = loader.dataset.get('data_root', '').rstrip('/') if loader else ''
    if root not in DATASET_SIZES:
        return None
    images = DATASET_SIZES[root]
    gpus, batch = gpus_and_batch(path, cfg)
    drop_last = loader.get('drop_last', False)
    per_process = math.ceil(images / gpus) \
        if loader.sampler.get('round_up', True) else images // gpus
    per_epoch = per_process // batch if drop_last else \
        math.ceil(per_process / batch)
    return (images, gpus, batch, drop_last, per_epoch,
            per_epoch * cfg.train_cfg.max_epochs)


@pytest.mark.parametrize(
    'path', SHIPPED_CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_stated_iteration_counts_are_the_loaders(path):
    text = comments(path)
    counts = [_int(c) for c in COUNT.findall(text)]
    per_epoch_counts = [_int(c) for c in PER_EPOCH.findall(text)]
    total_counts = [_int(c) for c in IN_TOTAL.findall(text)]
    sentence = SENTENCE.search(text)
    if not (counts or per_epoch_counts or total_counts or EPOCHS.search(text)):
        return  # states nothing
    cfg = Config.fromfile(path)
    train_cfg = cfg.get('train_cfg', {})
    if 'max_iters' in train_cfg:
        assert not (per_epoch_counts or total_counts), \
            'an iteration-based config'
        assert set(counts) <= {train_cfg.max_iters}, (counts,
                                                      train_cfg.max_iters)
        for epochs, iters, batch, images in EPOCHS.findall(text):
            assert _int(iters) == train_cfg.max_iters
            if re.search(r'_(\d+)xb(\d+)', osp.basename(path)):
                gpus, per_gpu = gpus_and_batch(path, cfg)
                assert int(batch) == gpus * per_gpu
            assert abs(
                _int(iters) * int(batch) / _int(images) - float(epochs)) < 0.05
        return
    expected = expected_iterations(path, cfg)
    assert expected is not None, (
        'the comments count iterations of a loader whose data size this '
        'test does not know (add it to DATASET_SIZES)')
    images, gpus, batch, drop_last, per_epoch, total = expected
    if sentence is not None:
        n, g, b, last, i, t = sentence.groups()
        assert (_int(n), int(g), int(b)) == (images, gpus, batch)
        assert (last == 'dropped') == drop_last
        assert (_int(i), _int(t)) == (per_epoch, total)
    assert set(counts) <= {per_epoch, total}, (counts, per_epoch, total)
    assert set(per_epoch_counts) <= {per_epoch}, (per_epoch_counts, expected)
    assert set(total_counts) <= {total}, (total_counts, expected)


def test_the_headers_state_their_schedules():
    """The configs whose headers used to state a count still do (so the
    test above checks something)."""
    stating = [
        osp.relpath(p, REPO) for p in SHIPPED_CONFIGS
        if SENTENCE.search(comments(p))
    ]
    assert {
        'configs/sim/sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py',
        'configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py',
        'configs/benchmarks/classification/shapes/'
        'vit-tiny-p16_ft-1xb32-coslr-10e_shapes.py',
        'configs/benchmarks/classification/shapes/'
        'vit-tiny-p16_linear-1xb32-coslr-10e_shapes.py',
    } <= set(stating)
