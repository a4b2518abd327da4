# Copyright (c) mmsim contributors. All rights reserved.
"""Two views of one image and the geometry between them.

The geometry, ``rel_pos``, is encoded by :func:`mmsim.geometry.encode_rel_pos`
and decoded by the model's position embedding and the pictures.
"""
import math
import random
from typing import List, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmengine.registry import DefaultScope

from ...geometry import CropBox, encode_rel_pos
from ...hosts import host

_INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'lanczos')


def sample_crop_box(height: int, width: int, scale: Sequence[float],
                    ratio: Sequence[float]) -> CropBox:
    """Draw a RandomResizedCrop box with torchvision's semantics.

    Ten tries of area ``~ U(scale) * H * W`` and log-uniform aspect ratio
    ``w / h`` in ``ratio``; a box that fits is placed at a uniform top-left.
    If none fits, the centre crop of the whole image clamped to ``ratio``.
    Random numbers come from Python's ``random``.

    Args:
        height (int): Image height H in pixels.
        width (int): Image width W in pixels.
        scale (Sequence[float]): Range of the crop's fraction of the area.
        ratio (Sequence[float]): Range of the crop's aspect ratio ``w / h``.

    Returns:
        Tuple[int, int, int, int]: ``(i, j, h, w)``: top, left, height and
        width of the box in pixels.
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * random.uniform(scale[0], scale[1])
        aspect = math.exp(random.uniform(*log_ratio))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            i = random.randint(0, height - h)
            j = random.randint(0, width - w)
            return i, j, h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


@host().TRANSFORMS.register_module()
class SIMTwoViewCrop(BaseTransform):
    """Two flipped-and-cropped views of one image, with their geometry.

    The views of `Siamese Image Modeling
    <https://arxiv.org/abs/2206.01204>`_.
    For each view independently: a horizontal flip of the whole image with
    probability ``flip_prob``, a RandomResizedCrop (torchvision semantics,
    box in pixels of the flipped-or-not image) resized to ``size x size``
    with ``mmcv.imresize`` (Pillow by default, like the release), then the
    view's own colour pipeline. All random numbers are drawn in
    :meth:`transform`.

    Required Keys:

    - img: (H, W, 3) uint8

    Modified Keys:

    - img: ``[view_1, view_2]``, each (size, size, 3)
    - img_shape: ``(size, size)``

    Added Keys:

    - rel_pos: float32 (6, ) ``(delta_i, delta_j, delta_h, delta_w,
      rel_flip, flip_delta_j)``, view 2 relative to view 1
      (:mod:`mmsim.geometry.rel_pos`)

    Args:
        size (int): Output side of both views. Defaults to 224.
        scale (Sequence[float]): Range of the crop's fraction of the image
            area, within (0, 1]. Defaults to (0.2, 1.0).
        ratio (Sequence[float]): Range of the crop's aspect ratio ``w / h``.
            Defaults to (3 / 4, 4 / 3).
        flip_prob (float): Probability of a horizontal flip, per view.
            Defaults to 0.5.
        interpolation (str): Resize interpolation. Defaults to 'bicubic'.
        backend (str): ``mmcv.imresize`` backend, 'pillow' (as the release,
            PIL) or 'cv2'. Defaults to 'pillow'.
        view_pipelines (List[List[dict]], optional): Two lists of transform
            configs (mmselfsup ``TRANSFORMS``), the colour pipeline of view
            1 and of view 2, each run on its view only. None or empty lists
            for no colour augmentation. Defaults to None.

    Examples:
        >>> crop = SIMTwoViewCrop(size=224, scale=(0.2, 1.0))
        >>> out = crop(dict(img=np.zeros((300, 400, 3), np.uint8)))
        >>> [v.shape for v in out['img']], out['rel_pos'].shape
        ([(224, 224, 3), (224, 224, 3)], (6,))
    """

    def __init__(self,
                 size: int = 224,
                 scale: Sequence[float] = (0.2, 1.0),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.),
                 flip_prob: float = 0.5,
                 interpolation: str = 'bicubic',
                 backend: str = 'pillow',
                 view_pipelines: Optional[List[List[dict]]] = None) -> None:
        super().__init__()
        if not isinstance(size, int) or size <= 0:
            raise ValueError(f'size must be a positive int, got {size!r}')
        if (len(scale) != 2 or not 0 < scale[0] <= scale[1] <= 1):
            raise ValueError('scale must be (min, max) with 0 < min <= max '
                             f'<= 1, got {scale!r}')
        if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError('ratio must be (min, max) with 0 < min <= max, '
                             f'got {ratio!r}')
        if not 0 <= flip_prob <= 1:
            raise ValueError(f'flip_prob must be in [0, 1], got {flip_prob!r}')
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f'interpolation must be one of {_INTERPOLATIONS}'
                             f', got {interpolation!r}')
        if backend not in ('pillow', 'cv2'):
            raise ValueError("backend must be 'pillow' or 'cv2', got "
                             f'{backend!r}')
        if view_pipelines is None:
            view_pipelines = [[], []]
        if (not isinstance(view_pipelines, Sequence)
                or len(view_pipelines) != 2):
            raise ValueError('view_pipelines must hold two lists of '
                             'transform configs (view 1, view 2), got '
                             f'{view_pipelines!r}')
        self.size = size
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.flip_prob = flip_prob
        self.interpolation = interpolation
        self.backend = backend
        self.view_pipelines = [
            self._build_pipeline(cfgs or []) for cfgs in view_pipelines
        ]

    @staticmethod
    def _build_pipeline(cfgs: Sequence) -> Compose:
        """Build one view's colour pipeline in the host's scope."""
        scope = (None if DefaultScope.get_current_instance() is not None else
                 host().NAME)
        with DefaultScope.overwrite_default_scope(scope):
            return Compose([
                host().TRANSFORMS.build(cfg) if isinstance(cfg, dict) else cfg
                for cfg in cfgs
            ])

    @staticmethod
    def _check_image(results: dict) -> np.ndarray:
        """Return ``results['img']`` if it is an (H, W, 3) uint8 array."""
        img = results.get('img')
        shape = getattr(img, 'shape', None)
        if (not isinstance(img, np.ndarray) or img.ndim != 3
                or img.shape[2] != 3 or img.dtype != np.uint8
                or min(img.shape[:2]) == 0):
            dtype = getattr(img, 'dtype', type(img).__name__)
            raise ValueError(
                f'SIMTwoViewCrop: image {results.get("img_path")!r} has '
                f'shape {shape} and dtype {dtype}, but an (H, W, 3) uint8 '
                'array with H, W > 0 is needed. Load images with '
                "dict(type='LoadImageFromFile', color_type='color') (and "
                'to_float32=False): it gives 3 channels for grayscale and '
                'RGBA files alike.')
        return img

    def _crop_view(self, img: np.ndarray) -> Tuple[np.ndarray, CropBox, bool]:
        """Flip, crop and resize one view (no colour).

        Args:
            img (np.ndarray): (H, W, 3) uint8 image.

        Returns:
            Tuple[np.ndarray, CropBox, bool]: The (size, size, 3) view, its
            crop box in the flipped-or-not image, and whether it flipped.
        """
        flip = random.random() < self.flip_prob
        if flip:
            img = img[:, ::-1]
        height, width = img.shape[:2]
        i, j, h, w = sample_crop_box(height, width, self.scale, self.ratio)
        crop = np.ascontiguousarray(img[i:i + h, j:j + w])
        view = mmcv.imresize(
            crop, (self.size, self.size),
            interpolation=self.interpolation,
            backend=self.backend)
        return view, (i, j, h, w), flip

    def _colour(self, results: dict, view: np.ndarray,
                index: int) -> np.ndarray:
        """Run view ``index``'s colour pipeline on a copy of ``results``."""
        view_results = results.copy()
        view_results['img'] = view
        view_results['img_shape'] = view.shape[:2]
        view_results = self.view_pipelines[index](view_results)
        if view_results is None:
            raise RuntimeError(f'the colour pipeline of view {index + 1} '
                               'returned None; it must keep every sample')
        return view_results['img']

    def transform(self, results: dict) -> dict:
        """Make the two views and their relative geometry.

        Args:
            results (dict): Holds 'img', an (H, W, 3) uint8 array.

        Returns:
            dict: With 'img' = [view_1, view_2] ((size, size, 3) each),
            'img_shape' = (size, size) and 'rel_pos' (6, ) float32.
        """
        img = self._check_image(results)
        view_1, box_1, flip_1 = self._crop_view(img)
        view_1 = self._colour(results, view_1, 0)
        view_2, box_2, flip_2 = self._crop_view(img)
        view_2 = self._colour(results, view_2, 1)
        results['rel_pos'] = encode_rel_pos(box_1, flip_1, box_2, flip_2,
                                            img.shape[1])
        results['img'] = [view_1, view_2]
        results['img_shape'] = (self.size, self.size)
        return results

    def __repr__(self) -> str:
        repr_str = self.__class__.__name__
        repr_str += f'(size={self.size}, '
        repr_str += f'scale={self.scale}, '
        repr_str += f'ratio={self.ratio}, '
        repr_str += f'flip_prob={self.flip_prob}, '
        repr_str += f'interpolation={self.interpolation!r}, '
        repr_str += f'backend={self.backend!r}, '
        repr_str += f'view_pipelines={self.view_pipelines})'
        return repr_str
