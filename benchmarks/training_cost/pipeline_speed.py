# Copyright (c) mmsim contributors. All rights reserved.
"""Images per second of train pipelines, in one process (one "worker")."""
import random
import time
from typing import Dict, List, Sequence

import numpy as np
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from .models import method_config, train_pipeline

#: The compared pipelines: name -> (method whose config holds it, label).
PIPELINES: Dict[str, tuple] = {
    'sim': ('sim_release', 'SIM two views + block mask (release config)'),
    'mocov3': ('mocov3', 'MoCo v3 two views (mmselfsup config)'),
}


def pipeline_throughput(image_paths: Sequence[str],
                        rounds: int = 2,
                        seed: int = 0) -> Dict[str, Dict]:
    """Run each pipeline over all images, alternating, ``rounds`` times.

    Threads are pinned to one (torch and OpenCV), as in a DataLoader
    worker.

    Args:
        image_paths (Sequence[str]): JPEG files.
        rounds (int): Passes per pipeline (interleaved).
        seed (int): Seed of python/numpy randomness.

    Returns:
        dict: Per pipeline ``images_per_s`` (best pass), ``pass_s`` (list
        of seconds per pass over all images), ``label``.
    """
    import cv2
    import torch
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    init_default_scope('mmselfsup')
    import mmsim  # noqa: F401
    random.seed(seed)
    np.random.seed(seed)
    pipelines = {
        name: Compose(train_pipeline(method_config(method, 'vit-b')))
        for name, (method, _) in PIPELINES.items()
    }
    passes: Dict[str, List[float]] = {name: [] for name in pipelines}
    for _ in range(rounds):
        for name, pipeline in pipelines.items():
            start = time.perf_counter()
            for path in image_paths:
                if pipeline(dict(img_path=path)) is None:
                    raise RuntimeError(f'{name} pipeline dropped {path}')
            passes[name].append(time.perf_counter() - start)
    return {
        name:
        dict(
            label=PIPELINES[name][1],
            pass_s=times,
            images=len(image_paths),
            images_per_s=len(image_paths) / min(times))
        for name, times in passes.items()
    }
