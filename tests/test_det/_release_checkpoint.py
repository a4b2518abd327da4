# Copyright (c) mmsim contributors. All rights reserved.
"""A fake of the SIM authors' released checkpoint (docs/method.md §6): the
same keys and shapes, random tensors, any width and depth."""
from collections import OrderedDict
from typing import Dict, Tuple

import torch

_BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def _block_shapes(width: int,
                  norm: str,
                  hidden: int = None) -> Dict[str, Tuple[int, ...]]:
    hidden = hidden or 4 * width
    shapes = OrderedDict()
    for index in (1, 2):
        if norm == 'bn':
            for name in _BN:
                shapes[f'norm{index}.bn.{name}'] = (
                    () if name == 'num_batches_tracked' else (width, ))
        else:
            shapes[f'norm{index}.weight'] = (width, )
            shapes[f'norm{index}.bias'] = (width, )
    shapes.update({
        'attn.qkv.weight': (3 * width, width),
        'attn.qkv.bias': (3 * width, ),
        'attn.proj.weight': (width, width),
        'attn.proj.bias': (width, ),
        'mlp.fc1.weight': (hidden, width),
        'mlp.fc1.bias': (hidden, ),
        'mlp.fc2.weight': (width, hidden),
        'mlp.fc2.bias': (width, ),
    })
    return shapes


def release_shapes(depth: int = 12,
                   width: int = 768,
                   proj_depth: int = 2,
                   pred_depth: int = 4,
                   dec_width: int = 768,
                   grid: int = 14,
                   norm: str = 'bn',
                   hidden: int = None) -> Dict[str, Tuple[int, ...]]:
    """Key -> shape of the release's ``model`` dict."""
    shapes = OrderedDict()
    for prefix in ('', 'mm_'):
        shapes[f'{prefix}cls_token'] = (1, 1, width)
        if not prefix:
            shapes['pos_embed'] = (1, 1 + grid * grid, width)
        shapes[f'{prefix}patch_embed.proj.weight'] = (width, 3, 16, 16)
        shapes[f'{prefix}patch_embed.proj.bias'] = (width, )
        for i in range(depth):
            for key, shape in _block_shapes(width, 'ln', hidden).items():
                shapes[f'{prefix}blocks.{i}.{key}'] = shape
        shapes[f'{prefix}decoder_embed.weight'] = (dec_width, width)
        shapes[f'{prefix}decoder_embed.bias'] = (dec_width, )
        shapes[f'{prefix}mask_token'] = (1, 1, dec_width)
        for i in range(proj_depth):
            for key, shape in _block_shapes(dec_width, norm).items():
                shapes[f'{prefix}projector_decoder_blocks.{i}.{key}'] = shape
    shapes['decoder_pos_embed'] = (1, 1 + grid * grid, dec_width)
    shapes['decoder_pos_mlp.weight'] = (dec_width, 2 * dec_width)
    shapes['decoder_pos_mlp.bias'] = (dec_width, )
    for i in range(pred_depth):
        for key, shape in _block_shapes(dec_width, norm).items():
            shapes[f'predictor_decoder_blocks.{i}.{key}'] = shape
    shapes['decoder_pred.weight'] = (dec_width, dec_width)
    shapes['decoder_pred.bias'] = (dec_width, )
    return shapes


def fake_release_state(seed: int = 0, **kwargs) -> Dict[str, torch.Tensor]:
    """Random tensors with the release's keys and shapes."""
    generator = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape in release_shapes(**kwargs).items():
        if key.endswith('num_batches_tracked'):
            state[key] = torch.randint(1, 1000, (), generator=generator)
        elif key.endswith('running_var'):
            state[key] = torch.rand(shape, generator=generator) + .5
        else:
            state[key] = torch.randn(shape, generator=generator)
    state['pos_embed'][:, 0] = 0  # the release's cls row
    return state
