# Copyright (c) mmsim contributors. All rights reserved.
"""Generated ImageNet-like JPEGs for the data and step benchmarks."""
import os
import os.path as osp
from typing import List, Tuple

import numpy as np
from PIL import Image


def generate_jpegs(out_dir: str,
                   num: int,
                   size: Tuple[int, int] = (500, 375),
                   quality: int = 90,
                   seed: int = 0) -> List[str]:
    """Write ``num`` random textured RGB JPEGs of about ``size`` (W, H).

    Each image is a smooth colour field (bicubic upsampling of a coarse
    random grid) plus fine noise and a few flat rectangles, so that JPEG
    decoding costs about what a natural photo of that size costs. Sizes
    jitter by up to +-10% per side, as ImageNet's do.

    Args:
        out_dir (str): Directory to write ``img_00000.jpg`` ... into.
        num (int): Number of images.
        size (tuple[int, int]): Nominal (width, height).
        quality (int): JPEG quality.
        seed (int): Random seed (same arguments, same files).

    Returns:
        list[str]: The image paths.
    """
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(num):
        width = int(size[0] * rng.uniform(0.9, 1.1))
        height = int(size[1] * rng.uniform(0.9, 1.1))
        coarse = rng.integers(
            0,
            256, (rng.integers(4, 16), rng.integers(4, 16), 3),
            dtype=np.uint8)
        field = np.asarray(
            Image.fromarray(coarse).resize((width, height), Image.BICUBIC),
            dtype=np.int16)
        field += rng.integers(-24, 25, field.shape, dtype=np.int16)
        for _ in range(rng.integers(2, 6)):
            x0, y0 = rng.integers(0, width - 8), rng.integers(0, height - 8)
            x1 = min(width, x0 + rng.integers(8, width // 2))
            y1 = min(height, y0 + rng.integers(8, height // 2))
            field[y0:y1, x0:x1] = rng.integers(0, 256, 3)
        image = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8))
        path = osp.join(out_dir, f'img_{index:05d}.jpg')
        image.save(path, quality=quality)
        paths.append(path)
    return paths
