# Copyright (c) mmsim contributors. All rights reserved.
"""The config files the project ships, for the tests that sweep them."""
import glob
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Every shipped mmselfsup-host config file, bases included: configs/ and
#: the replay's. configs/mmpretrain/ parses only where mmpretrain is
#: installed; tests/test_hosts checks it in its own environment.
SHIPPED_CONFIGS = sorted(
    path for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True) if not path.
    startswith(osp.join(REPO, 'configs', 'mmpretrain') + osp.sep)) + sorted(
        glob.glob(
            osp.join(REPO, 'benchmarks', 'replay', 'configs', '**', '*.py'),
            recursive=True))
#: The tiny CPU configs of the transfer quick start, by task (as
#: tools/transfer_quickstart.py resolves them).
TRANSFER_CONFIGS = dict(
    det=osp.join(
        REPO, 'configs', 'benchmarks', 'mmdetection', 'coco',
        'mask-rcnn_sim-vit-tiny-p16_simple-fpn_1xb4-lsj128-600i_shapes.py'),
    seg=osp.join(REPO, 'configs', 'benchmarks', 'mmsegmentation', 'shapes',
                 'upernet_sim-vit-tiny-p16_1xb8-300i_shapes-128x128.py'))
