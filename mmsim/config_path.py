# Copyright (c) mmsim contributors. All rights reserved.
"""The path of a shipped config, for a user config outside the checkout.

mmengine resolves a relative ``_base_`` against the folder of the config
that names it, so ``'../configs/sim/...'`` works only from a folder beside
``configs/``. mmengine evaluates the ``_base_`` expression, so a config
anywhere can name a shipped one through the installed package instead::

    _base_ = __import__('mmsim').config_path(
        'sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py')
"""
import os.path as osp

#: The checkout's ``configs/`` (mmsim is installed editable, ``pip -e``).
CONFIGS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs')


def config_path(name: str) -> str:
    """The absolute path of ``configs/<name>`` of this checkout.

    Args:
        name (str): A config path under ``configs/``, e.g.
            ``'sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py'``.

    Returns:
        str: The file's absolute path.

    Raises:
        FileNotFoundError: Naming the path looked at, when there is no such
            config (or mmsim was installed without its checkout).
    """
    path = osp.join(CONFIGS, name)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no shipped config {path!r}: mmsim reads its configs from the '
            'checkout it is installed from (pip install -e .); the names '
            f'are paths under {CONFIGS}')
    return path
