# Copyright (c) mmsim contributors. All rights reserved.
"""The result of a key mapping and the checks of a layout's keys, with
their one-line error messages."""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence, Tuple

import torch


class CheckpointConversionError(ValueError):
    """A checkpoint does not have the layout a converter expects."""


@dataclass
class Conversion:
    """Result of a key mapping.

    Attributes:
        state_dict (OrderedDict): Converted tensors.
        mapped (list[tuple[str, str]]): ``(source key, new key)`` pairs.
        dropped (list[str]): Source keys left out on purpose.
    """
    state_dict: 'OrderedDict[str, torch.Tensor]' = field(
        default_factory=OrderedDict)
    mapped: List[Tuple[str, str]] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)

    def add(self, source: str, target: str, tensor: torch.Tensor) -> None:
        """Record ``source`` as converted to ``target``."""
        if target in self.state_dict:
            raise CheckpointConversionError(
                f'{source!r} maps to {target!r}, which is already taken')
        self.state_dict[target] = tensor
        self.mapped.append((source, target))

    def summary(self, verbose: bool = True) -> str:
        """Human-readable report: every mapping (``verbose``) and the
        dropped keys grouped by prefix."""
        lines = []
        if verbose:
            lines += [f'  {src} -> {dst}' for src, dst in self.mapped]
        groups: Dict[str, int] = OrderedDict()
        for key in self.dropped:
            prefix = _group_name(key)
            groups[prefix] = groups.get(prefix, 0) + 1
        dropped = ', '.join(f'{k} ({n})' for k, n in groups.items())
        lines.append(f'mapped {len(self.mapped)} tensors; dropped '
                     f'{len(self.dropped)}: {dropped or "none"}')
        return '\n'.join(lines)


def _group_name(key: str) -> str:
    """``'target.module.backbone.layers.0.ln1.weight'`` -> ``'target.*'``,
    ``'mm_blocks.3.attn.qkv.weight'`` -> ``'mm_blocks.*'``."""
    head = key.split('.')[0]
    return head + '.*' if '.' in key else head


#: Keys an error message names before it says how many more there are.
MAX_LISTED_KEYS = 5


def list_keys(keys: Sequence[str], limit: int = MAX_LISTED_KEYS) -> str:
    """``'a, b, c'``; beyond ``limit`` keys, the first ones and a count
    with the groups of the rest (``'... and 40 more: backbone.* (30),
    neck.* (10)'``; at most ``limit`` groups, then ``', ...'``), so that a
    whole foreign checkpoint stays one short line.

    Args:
        keys (Sequence[str]): Keys, in the order to list them.
        limit (int): Keys named. Defaults to :data:`MAX_LISTED_KEYS`.

    Returns:
        str: One line.
    """
    if len(keys) <= limit:
        return ', '.join(keys)
    groups: Dict[str, int] = OrderedDict()
    for key in keys[limit:]:
        groups[_group_name(key)] = groups.get(_group_name(key), 0) + 1
    rest = ', '.join(f'{k} ({n})' for k, n in list(groups.items())[:limit])
    if len(groups) > limit:
        rest += ', ...'
    return (', '.join(keys[:limit]) +
            f', ... and {len(keys) - limit} more: {rest}')


def key_report(missing: Iterable[str], unexpected: Iterable[str]) -> str:
    """``'missing keys (2): a, b; unexpected keys (1): c'`` (either part
    left out when empty), keys sorted, long lists cut by
    :func:`list_keys`."""
    missing, unexpected = sorted(missing), sorted(unexpected)
    parts = []
    if missing:
        parts.append(f'missing keys ({len(missing)}): {list_keys(missing)}')
    if unexpected:
        parts.append(f'unexpected keys ({len(unexpected)}): '
                     f'{list_keys(unexpected)}')
    return '; '.join(parts)


def check_keys(missing: Iterable[str], unexpected: Iterable[str],
               what: str) -> None:
    """Raise a :class:`CheckpointConversionError` listing bad keys, in one
    line: ``the checkpoint is not <what>: missing keys (N): ...;
    unexpected keys (M): ...; nothing was written``.

    Args:
        missing (Iterable[str]): Keys the layout needs but lacks.
        unexpected (Iterable[str]): Keys the layout does not know.
        what (str): The layout, for the message.
    """
    report = key_report(missing, unexpected)
    if report:
        raise CheckpointConversionError(
            f'the checkpoint is not {what}: {report}; nothing was written')


def encoder_blocks(keys: Iterable[str], prefix: str,
                   missing: List[str]) -> int:
    """Number of encoder blocks ``prefix{i}.*`` among ``keys`` (the highest
    index + 1); with none, ``'{prefix}<i>.*'`` is appended to ``missing``:
    a ViT has at least one block.

    Args:
        keys (Iterable[str]): State-dict keys.
        prefix (str): E.g. ``'blocks.'``.
        missing (list[str]): Missing keys of the error message, extended
            in place.

    Returns:
        int: Blocks, 0 when there is none.
    """
    indices = block_indices(keys, prefix)
    if not indices:
        missing.append(f'{prefix}<i>.* (no encoder block)')
    return max(indices) + 1 if indices else 0


def block_indices(keys: Iterable[str], prefix: str) -> List[int]:
    """Sorted indices ``i`` of keys that start with ``prefix + '{i}.'``."""
    pattern = re.compile(re.escape(prefix) + r'(\d+)\.')
    found = {int(m.group(1)) for m in map(pattern.match, keys) if m}
    return sorted(found)


def vit_encoder_keys(num_layers: int) -> List[str]:
    """Keys of an mmcls ``VisionTransformer`` without cls token, final norm
    or head, in the layout shared by ``SIMViT`` and ``SIMViTDet``.

    Args:
        num_layers (int): Blocks.

    Returns:
        list[str]: ``pos_embed``, ``patch_embed.projection.*`` and the
        12 tensors of every block.
    """
    keys = [
        'pos_embed', 'patch_embed.projection.weight',
        'patch_embed.projection.bias'
    ]
    for i in range(num_layers):
        for name in ('ln1', 'attn.qkv', 'attn.proj', 'ln2', 'ffn.layers.0.0',
                     'ffn.layers.1'):
            keys += [f'layers.{i}.{name}.weight', f'layers.{i}.{name}.bias']
    return keys


def check_pos_embed(pos_embed: torch.Tensor, key: str) -> None:
    """Check a ViT position embedding is (1, 1 + G * G, C)."""
    rows = pos_embed.shape[1] - 1 if pos_embed.dim() == 3 else -1
    side = int(round(max(rows, 0)**0.5))
    if pos_embed.dim() != 3 or pos_embed.shape[0] != 1 or rows < 1 or \
            side * side != rows:
        raise CheckpointConversionError(
            f'{key} has shape {tuple(pos_embed.shape)}; expected (1, 1 + G '
            '* G, C): a cls row and a square grid of patches')
