# Copyright (c) mmsim contributors. All rights reserved.
"""Key layout of the SIM authors' released checkpoint (docs/method.md §6).

The release stores ``{'model': {...}}`` with timm-style names:
``blocks.{i}.norm1|attn.qkv|attn.proj|norm2|mlp.fc1|mlp.fc2`` for the
encoder, the same names with ``norm1.bn.*`` BatchNorms for the projector
and predictor blocks, and the momentum target under ``mm_``.
"""
import re
from typing import Dict, Iterable

_BLOCK_LINEAR = {
    'attn.qkv': 'attn.qkv',
    'attn.proj': 'attn.proj',
    'mlp.fc1': 'ffn.layers.0.0',
    'mlp.fc2': 'ffn.layers.1',
}
_BN_TENSORS = ('weight', 'bias', 'running_mean', 'running_var',
               'num_batches_tracked')


def block_key_map(norm: str = 'ln') -> Dict[str, str]:
    """Release block-relative keys -> mmcls ``TransformerEncoderLayer``.

    Args:
        norm (str): ``'ln'`` (``norm1.weight`` -> ``ln1.weight``) or
            ``'bn'`` (``norm1.bn.running_mean`` -> ``bn1.running_mean``:
            mmcls names a norm by its abbreviation, ``SIMTokenBN`` is
            ``bn``).

    Returns:
        dict[str, str]: Suffix map of one block.
    """
    mapping = {}
    for src, dst in _BLOCK_LINEAR.items():
        for tensor in ('weight', 'bias'):
            mapping[f'{src}.{tensor}'] = f'{dst}.{tensor}'
    for index in (1, 2):
        if norm == 'ln':
            for tensor in ('weight', 'bias'):
                mapping[f'norm{index}.{tensor}'] = f'ln{index}.{tensor}'
        elif norm == 'bn':
            for tensor in _BN_TENSORS:
                mapping[f'norm{index}.bn.{tensor}'] = f'bn{index}.{tensor}'
        else:
            raise ValueError(f"norm must be 'ln' or 'bn', got {norm!r}")
    return mapping


def blocks_key_map(src_prefix: str,
                   dst_prefix: str,
                   num_blocks: int,
                   norm: str = 'ln') -> Dict[str, str]:
    """Full-key map of ``num_blocks`` release blocks.

    Args:
        src_prefix (str): E.g. ``'blocks.'``.
        dst_prefix (str): E.g. ``'backbone.layers.'``.
        num_blocks (int): Blocks.
        norm (str): ``'ln'`` or ``'bn'``, see :func:`block_key_map`.

    Returns:
        dict[str, str]: ``src_prefix{i}.X`` -> ``dst_prefix{i}.Y``.
    """
    suffixes = block_key_map(norm)
    return {
        f'{src_prefix}{i}.{src}': f'{dst_prefix}{i}.{dst}'
        for i in range(num_blocks)
        for src, dst in suffixes.items()
    }


def encoder_key_map(num_layers: int,
                    src_prefix: str = '',
                    dst_prefix: str = '') -> Dict[str, str]:
    """Release encoder keys -> mmcls ViT keys (no cls token).

    Args:
        num_layers (int): Encoder blocks.
        src_prefix (str): ``''`` (online) or ``'mm_'`` (target).
        dst_prefix (str): Prefix of the mmcls keys, e.g. ``'backbone.'``.

    Returns:
        dict[str, str]: ``patch_embed.proj.*`` -> ``patch_embed.projection
        .*`` and ``blocks.{i}.*`` -> ``layers.{i}.*``.
    """
    mapping = {
        f'{src_prefix}patch_embed.proj.{t}':
        f'{dst_prefix}patch_embed.projection.{t}'
        for t in ('weight', 'bias')
    }
    mapping.update(
        blocks_key_map(f'{src_prefix}blocks.', f'{dst_prefix}layers.',
                       num_layers))
    return mapping


def decoder_norm(keys: Iterable[str]) -> str:
    """``'bn'`` if the release's projector/predictor blocks hold
    ``norm1.bn.*`` BatchNorms, else ``'ln'``."""
    pattern = re.compile(r'^(mm_)?(projector|predictor)_decoder_blocks\.'
                         r'\d+\.norm1\.bn\.')
    return 'bn' if any(pattern.match(k) for k in keys) else 'ln'
