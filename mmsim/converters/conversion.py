# Copyright (c) mmsim contributors. All rights reserved.
import os
import re
import sys
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

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


def load_state_dict(
    path: str,
    keys: Sequence[str] = ('state_dict', ),
    what: str = 'a checkpoint'
) -> 'OrderedDict[str, torch.Tensor]':
    """Read the tensors of a checkpoint file on the CPU.

    Args:
        path (str): Checkpoint file.
        keys (Sequence[str]): Keys under which the tensors may be nested,
            tried in order; a flat dict of tensors is used as it is.
        what (str): What the file should be, for the message when it has
            none of ``keys``. Defaults to ``'a checkpoint'``.

    Returns:
        OrderedDict[str, torch.Tensor]: The tensors.
    """
    if not os.path.isfile(path):
        raise CheckpointConversionError(
            f'{path}: no such checkpoint file' +
            (' (it is a folder)' if os.path.isdir(path) else ''))
    try:
        checkpoint = torch.load(path, map_location='cpu')
    except Exception as error:  # truncated zip, bad pickle, not a .pth
        raise CheckpointConversionError(
            f'{path} is not a readable PyTorch checkpoint '
            f'({type(error).__name__}: {str(error).splitlines()[0]}); the '
            'file is probably truncated (an interrupted copy or save) or not '
            'a .pth: copy it again') from error
    if not isinstance(checkpoint, dict):
        raise CheckpointConversionError(
            f'{path} holds a {type(checkpoint).__name__}, not a dict')
    for key in keys:
        if isinstance(checkpoint.get(key), dict):
            return OrderedDict(checkpoint[key])
    if checkpoint and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return OrderedDict(checkpoint)
    raise CheckpointConversionError(
        f'{path} is not {what}: it has none of the keys {list(keys)} and is '
        'not a flat dict of tensors (top-level keys: '
        f'{list_keys(sorted(map(str, checkpoint)))})')


def default_file_mode() -> int:
    """The mode a new file gets from ``open()``: ``0o666`` less the umask.

    Returns:
        int: E.g. ``0o644`` under the usual umask ``0o022``.
    """
    umask = os.umask(0o022)  # read it: os.umask only sets, returning the old
    os.umask(umask)
    return 0o666 & ~umask


def same_file(src: str, dst: str) -> bool:
    """Whether ``dst`` names the file ``src`` (also through a link).

    Args:
        src (str): An existing or missing path.
        dst (str): Another path.

    Returns:
        bool: True when writing ``dst`` would replace ``src``.
    """
    if os.path.realpath(src) == os.path.realpath(dst):
        return True
    try:
        return os.path.samefile(src, dst)  # hard links
    except OSError:  # one of them does not exist
        return False


def save_checkpoint(state_dict: Dict[str, torch.Tensor],
                    path: str,
                    meta: Optional[dict] = None) -> None:
    """Write ``{'meta': meta, 'state_dict': state_dict}`` atomically: to a
    temporary file in the same folder, then renamed over ``path``, so a
    failure never leaves a partial file. The file gets the mode of any new
    file (:func:`default_file_mode`), not the temporary file's ``0o600``.

    Args:
        state_dict (dict[str, torch.Tensor]): Tensors to save.
        path (str): Destination.
        meta (dict, optional): Saved under ``meta``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp_path = tempfile.mkstemp(
        dir=folder, prefix='.' + os.path.basename(path), suffix='.tmp')
    os.close(handle)
    try:
        torch.save(dict(meta=meta or {}, state_dict=state_dict), tmp_path)
        os.chmod(tmp_path, default_file_mode())
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise


def convert_and_save(src: str,
                     dst: str,
                     convert: Callable[[Dict[str, torch.Tensor]], Conversion],
                     converter: str,
                     keys: Sequence[str] = ('state_dict', ),
                     what: str = 'a checkpoint',
                     verbose: bool = True,
                     check: Optional[Callable[[dict], None]] = None,
                     meta: Optional[dict] = None) -> int:
    """The converter CLIs' flow: load, convert, check, report, save.

    Nothing is written unless every step succeeds (an existing ``dst``
    keeps its bytes); errors are printed as one line that starts with the
    source path, and give exit status 1. An output that would replace
    the input (the same path, or a link to it) is refused up front.

    Args:
        src (str): Source checkpoint.
        dst (str): Destination, written atomically.
        convert (callable): Maps the loaded state dict to a Conversion.
        converter (str): Name recorded in the output's meta.
        keys (sequence[str]): Where the tensors sit in ``src`` (see
            :func:`load_state_dict`). Defaults to ``('state_dict', )``.
        what (str): What ``src`` should be, for the message when it has
            none of ``keys``. Defaults to ``'a checkpoint'``.
        verbose (bool): Print every mapped key. Defaults to True.
        check (callable, optional): Called on the converted state dict;
            raises CheckpointConversionError or RuntimeError to refuse it.
        meta (dict, optional): Extra meta (e.g. the weights' license).

    Returns:
        int: Exit status.
    """
    refused = (CheckpointConversionError, ) if check is None else \
        (CheckpointConversionError, RuntimeError)
    if same_file(src, dst):
        print(
            f'error: the output {dst} is the input {src}: converting in '
            'place would replace the checkpoint (optimiser, neck and target '
            'included) with the converted subset; give another output path',
            file=sys.stderr)
        return 1
    try:
        conversion = convert(load_state_dict(src, keys=keys, what=what))
        if check is not None:
            check(conversion.state_dict)
    except refused as error:
        message = str(error)  # one line that names the file
        if not message.startswith(src):
            message = f'{src}: {message}'
        print(f'error: {message}', file=sys.stderr)
        return 1
    print(conversion.summary(verbose=verbose))
    save_checkpoint(
        conversion.state_dict,
        dst,
        meta=dict(converted_from=src, converter=converter, **(meta or {})))
    print(f'saved {dst}')
    return 0
