# Copyright (c) mmsim contributors. All rights reserved.
"""A method's training batch from its own train pipeline (shared by the
training-cost benchmark and the GPU check)."""
from typing import List, Sequence

import torch
from mmengine.dataset import Compose, default_collate


def make_batch(pipeline_cfg: List[dict], image_paths: Sequence[str],
               batch_size: int) -> dict:
    """Run a train pipeline on ``batch_size`` images and collate them.

    Args:
        pipeline_cfg (list[dict]): A config's train pipeline.
        image_paths (Sequence[str]): JPEGs (cycled if fewer than the batch).
        batch_size (int): Samples.

    Returns:
        dict: ``inputs`` (list of (B, 3, H, W) uint8 views) and
        ``data_samples``, as mmengine's ``default_collate`` returns them.
    """
    pipeline = Compose(pipeline_cfg)
    samples = []
    for index in range(batch_size):
        sample = pipeline(dict(img_path=image_paths[index % len(image_paths)]))
        if sample is None:
            raise RuntimeError('the train pipeline dropped '
                               f'{image_paths[index % len(image_paths)]}')
        samples.append(sample)
    return default_collate(samples)


def tile_batch(batch: dict, batch_size: int) -> dict:
    """A collated batch grown (or cut) to ``batch_size`` samples by
    repeating its samples in order, so any batch size needs the pipeline
    only once.

    Args:
        batch (dict): ``inputs`` (a list of (B, 3, H, W) tensors, one per
            view) and ``data_samples`` (a list of B samples).
        batch_size (int): Samples wanted.

    Returns:
        dict: ``inputs`` (list of (batch_size, 3, H, W)) and
        ``data_samples`` (list of batch_size; repeated samples are the same
        objects).
    """
    samples = batch['data_samples']
    index = torch.arange(batch_size) % len(samples)
    return dict(
        inputs=[view[index] for view in batch['inputs']],
        data_samples=[samples[int(i)] for i in index])
