# Copyright (c) mmsim contributors. All rights reserved.
"""The generated shapes sets the tests train and read."""
from mmsim.datasets.shapes import generate_shapes_dataset


def shapes_folder(tmp_path_factory,
                  name: str = 'shapes',
                  num_det_train: int = 0,
                  num_det_val: int = 0,
                  **sizes) -> str:
    """Generate a shapes set into a new temporary folder (no detection
    images unless asked for).

    Args:
        tmp_path_factory: pytest's session-wide temporary folder factory.
        name (str): The folder's name stem. Defaults to 'shapes'.
        num_det_train (int): Detection training images. Defaults to 0.
        num_det_val (int): Detection validation images. Defaults to 0.
        **sizes: Further ``generate_shapes_dataset`` arguments, e.g.
            ``num_train``, ``num_val``, ``det_img_size``.

    Returns:
        str: The folder, ending in ``/`` (configs join file names to it).
    """
    root = str(tmp_path_factory.mktemp(name)) + '/'
    generate_shapes_dataset(
        root, num_det_train=num_det_train, num_det_val=num_det_val, **sizes)
    return root
