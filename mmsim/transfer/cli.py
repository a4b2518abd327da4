# Copyright (c) mmsim contributors. All rights reserved.
"""The converter CLIs' flow (load, convert, check, report, save, with a
timed line per slow phase) and their one argument parser: one CLI per
target, ``--release`` for the authors' weights, ``--config`` where the
target has a config check (``tools/model_converters/``)."""
import argparse
import contextlib
import functools
import os
import sys
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

import torch

from . import mmseg, release_to_sim, vitdet
from .checkpoint_io import (checkpoint_tensors, read_checkpoint, same_file,
                            save_checkpoint)
from .conversion import CheckpointConversionError, Conversion
from .phases import tensor_bytes, timed_phase

#: The licence recorded in every file converted from the authors' weights.
RELEASE_LICENSE = "CC-BY-NC 4.0 (SIM authors' weights)"
#: Per source: where its tensors sit and what it should be (for the
#: message when they are not there).
SOURCES = dict(
    sim=dict(
        keys=('state_dict', ),
        what="an mmsim SIM checkpoint (tensors under 'state_dict')"),
    release=dict(
        keys=('model', ),
        what="the SIM authors' released checkpoint (tensors under 'model')"))


class Target(NamedTuple):
    """What one converter CLI writes.

    Attributes:
        converters (dict[str, callable]): Converter per source (``'sim'``,
            ``'release'``), state dict -> :class:`Conversion`.
        output (str): What the output file holds, for ``--help``.
        check (callable, optional): ``check(state_dict, config)`` behind
            ``--config``; raises to refuse the converted tensors.
        check_help (str): ``--help`` of ``--config``.
    """
    converters: Dict[str, Callable[[Dict[str, torch.Tensor]], Conversion]]
    output: str
    check: Optional[Callable[[Dict[str, torch.Tensor], str], None]] = None
    check_help: str = ''


#: The converter CLIs by target; the converter recorded in an output's
#: meta is ``f'{source}_to_{target}'``.
TARGETS = dict(
    vitdet=Target(
        dict(
            sim=vitdet.convert_sim_to_vitdet,
            release=vitdet.convert_release_to_vitdet),
        'SIMViTDet backbone weights'),
    mmseg=Target(
        dict(
            sim=mmseg.convert_sim_to_mmseg,
            release=mmseg.convert_release_to_mmseg),
        'mmseg MAE backbone weights', mmseg.check_against_config,
        'mmseg config: build its backbone and check that the converted '
        'tensors load (only its layer scale and relative position bias '
        'missing) before writing'),
    sim=Target(
        dict(release=release_to_sim.convert_release_to_sim),
        'mmsim SIM checkpoint', release_to_sim.check_against_config,
        'SIM config: build its model and check that the converted tensors '
        'load with no missing or unexpected keys before writing'))


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
    keeps its bytes); errors are printed to stderr as one line that starts
    with the source path, and give exit status 1. The two slow phases on a
    large checkpoint print one line each to stdout as they run, with the
    size and the time: ``loading SRC (331.2 MB) ... 2.1 s`` (``failed``
    instead of the time when the file cannot be read) and ``writing DST
    (85.9 MB) ... 0.4 s`` (the tensors' bytes). An output that would replace
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
        # no file: no phase line, read_checkpoint names what is wrong
        loading = timed_phase('loading', src, os.path.getsize(src)) \
            if os.path.isfile(src) else contextlib.nullcontext()
        with loading:
            checkpoint = read_checkpoint(src)
        conversion = convert(checkpoint_tensors(checkpoint, src, keys, what))
        if check is not None:
            check(conversion.state_dict)
    except refused as error:
        message = str(error)  # one line that names the file
        if not message.startswith(src):
            message = f'{src}: {message}'
        print(f'error: {message}', file=sys.stderr)
        return 1
    print(conversion.summary(verbose=verbose), flush=True)
    with timed_phase('writing', dst, tensor_bytes(conversion.state_dict)):
        save_checkpoint(
            conversion.state_dict,
            dst,
            meta=dict(converted_from=src, converter=converter, **(meta or {})))
    print(f'saved {dst}')
    return 0


def converter_parser(
        target: str,
        description: Optional[str] = None) -> argparse.ArgumentParser:
    """The arguments of the converter CLI of ``target``: ``src``, ``dst``,
    ``--release`` (a target with both sources), ``--config`` (a target
    with a check) and ``--quiet``.

    Args:
        target (str): A key of :data:`TARGETS`.
        description (str, optional): The tool's docstring (first line
            shown).

    Returns:
        argparse.ArgumentParser: The parser.
    """
    spec = TARGETS[target]
    parser = argparse.ArgumentParser(
        description=(description or '').split('\n')[0] or None)
    if 'sim' not in spec.converters:
        src_help = "authors' checkpoint (dict with 'model')"
    else:
        src_help = 'mmsim SIM checkpoint (.pth)'
        if 'release' in spec.converters:
            src_help = ("mmsim SIM checkpoint, or with --release the "
                        "authors' checkpoint (dict with 'model')")
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help=f'output {spec.output} (.pth)')
    if len(spec.converters) > 1:
        parser.add_argument(
            '--release',
            action='store_true',
            help="src is the SIM authors' released checkpoint "
            '(CC-BY-NC 4.0)')
    if spec.check is not None:
        parser.add_argument('--config', help=spec.check_help)
    parser.add_argument(
        '--quiet', action='store_true', help='print the summary only')
    return parser


def converter_main(target: str,
                   argv: Optional[List[str]] = None,
                   description: Optional[str] = None) -> int:
    """Run the converter CLI of ``target`` (see :func:`converter_parser`
    and :func:`convert_and_save`).

    Args:
        target (str): A key of :data:`TARGETS`.
        argv (list[str], optional): Arguments. Defaults to the command
            line's.
        description (str, optional): The tool's docstring.

    Returns:
        int: Exit status.
    """
    spec = TARGETS[target]
    args = converter_parser(target, description).parse_args(argv)
    source = 'release' if getattr(args, 'release', False) or \
        'sim' not in spec.converters else 'sim'
    check = None
    if getattr(args, 'config', None):
        check = functools.partial(spec.check, config=args.config)
    return convert_and_save(
        args.src,
        args.dst,
        spec.converters[source],
        f'{source}_to_{target}',
        verbose=not args.quiet,
        check=check,
        meta=dict(license=RELEASE_LICENSE) if source == 'release' else None,
        **SOURCES[source])


__all__ = [
    'RELEASE_LICENSE', 'SOURCES', 'TARGETS', 'Target', 'convert_and_save',
    'converter_parser', 'converter_main'
]
