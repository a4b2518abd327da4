# Copyright (c) mmsim contributors. All rights reserved.
"""A dataset the 2-process test imports (``custom_imports``): every
sample's random draws depend on its index only."""
import random

import numpy as np
import torch

from tests._host import CUSTOM_DATASET, DATASETS

CustomDataset = DATASETS.get(CUSTOM_DATASET)


@DATASETS.register_module()
class PerSampleSeededDataset(CustomDataset):
    """The host's ``CustomDataset`` (mmcls's or mmpretrain's) that seeds
    Python's, NumPy's and torch's generators with ``seed + index`` before
    running the pipeline on a sample, so its crops, colour jitter and mask
    are the same whichever process, worker or position in a batch loads
    it.

    Args:
        seed (int): Added to the sample index.
        **kwargs: As for ``CustomDataset``.
    """

    def __init__(self, seed: int = 0, **kwargs) -> None:
        self.seed = seed
        super().__init__(**kwargs)

    def prepare_data(self, idx: int) -> dict:
        random.seed(self.seed + idx)
        np.random.seed(self.seed + idx)
        torch.manual_seed(self.seed + idx)
        return super().prepare_data(idx)
