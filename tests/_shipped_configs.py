# Copyright (c) mmsim contributors. All rights reserved.
"""The config files the project ships, for the tests that sweep them."""
import glob
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Every shipped config file, bases included: configs/ and the replay's.
SHIPPED_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True) +
    glob.glob(
        osp.join(REPO, 'benchmarks', 'replay', 'configs', '**', '*.py'),
        recursive=True))
