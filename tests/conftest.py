# Copyright (c) mmsim contributors. All rights reserved.
import os
import random

import numpy as np
import pytest
import torch

import mmsim  # noqa: F401  (registers the components)

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
