# Copyright (c) mmsim contributors. All rights reserved.
"""Which checkpoint a resume can use: a corrupt one is named, never used,
never deleted.

mmengine's ``--resume`` loads the file ``last_checkpoint`` names, whatever
it holds: a copy a user interrupted fails with a ``PytorchStreamReader``
error that does not name the file, and a flipped bit in the tensor data
loads silently (PyTorch does not check the zip records' CRC-32). Here a
checkpoint is complete when its zip directory reads, every record matches
its CRC-32 and it holds a pickle (PyTorch's zip format; a file of the
legacy format must load and hold a ``state_dict``): checking reads the
whole file once, without loading it.
"""
import glob
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

#: Checkpoint names a resume may pick (mmengine's CheckpointHook names);
#: ``best_*`` files are not the latest state.
_STEP_NAME = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')


class CorruptCheckpointError(RuntimeError):
    """A checkpoint given to resume from is incomplete or damaged."""


def checkpoint_problem(path: str) -> Optional[str]:
    """What is wrong with a checkpoint file for resuming, if anything.

    Args:
        path (str): A ``.pth`` written by mmengine.

    Returns:
        str, optional: None for a complete checkpoint, else a phrase such
        as ``'it is truncated or not a checkpoint (File is not a zip
        file)'`` or ``"record 'archive/data/3' fails its CRC-32 check (a
        damaged copy)"``.
    """
    if not osp.isfile(path):
        return 'it does not exist'
    if osp.getsize(path) == 0:
        return 'it is empty (0 bytes)'
    if zipfile.is_zipfile(path):  # torch >= 1.6's format: check, not load
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            return f'it cannot be read ({type(error).__name__}: {error})'
        if bad is not None:
            return f'record {bad!r} fails its CRC-32 check (a damaged copy)'
        if not any(name.endswith('/data.pkl') for name in names):
            return 'it is a zip file but not a PyTorch checkpoint'
        return None
    from ...transfer.safe_unpickling import load_without_code
    try:  # the legacy format has no checksums: it must load
        checkpoint, _ = load_without_code(path)
    except Exception as error:  # noqa: BLE001  (truncated, not a pickle)
        first = str(error).splitlines()[0] if str(error) else ''
        return ('it is truncated or not a checkpoint '
                f'({type(error).__name__}: {first})')
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        return 'it has no state_dict (not a training checkpoint)'
    return None


def _candidates(work_dir: str) -> List[str]:
    """The file ``last_checkpoint`` names, then ``epoch_N`` / ``iter_N``
    checkpoints of the folder, most recently written first (an epoch
    number and an iteration number, e.g. of a preemption, do not compare;
    the step breaks ties)."""
    paths = []
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            named = f.read().strip()
        if named:
            paths.append(named)
    stepped = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _STEP_NAME.match(osp.basename(path))
        if match:
            stepped.append((osp.getmtime(path), int(match.group(1)), path))
    for _, _, path in sorted(stepped, reverse=True):
        if not any(osp.abspath(path) == osp.abspath(p) for p in paths):
            paths.append(path)
    return paths


def newest_complete_checkpoint(
        work_dir: str) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """The checkpoint an automatic resume should use.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        tuple: The newest complete checkpoint (None when the folder has
        none at all), and ``(path, problem)`` for each newer one skipped.

    Raises:
        CorruptCheckpointError: Checkpoints exist but none is complete
            (starting afresh would overwrite them).
    """
    skipped = []
    for path in _candidates(work_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path, skipped
        skipped.append((path, problem))
    if skipped:
        listed = '; '.join(f'{p}: {why}' for p, why in skipped)
        raise CorruptCheckpointError(
            f'resume found no complete checkpoint in {work_dir} ({listed}); '
            'none was deleted. Copy a good checkpoint there, or start afresh '
            'in another --work-dir.')
    return None, skipped


def set_aside(path: str) -> Optional[str]:
    """Rename a corrupt checkpoint to ``<path>.corrupt`` (``.corrupt.1``,
    ...), so the resumed run neither overwrites it when it saves that step
    again nor picks it at a later resume.

    Args:
        path (str): The corrupt file.

    Returns:
        str, optional: Its new name; None if it does not exist.
    """
    if not osp.isfile(path):
        return None
    target, count = f'{path}.corrupt', 0
    while osp.exists(target):
        count += 1
        target = f'{path}.corrupt.{count}'
    os.replace(path, target)
    return target


def check_resume_checkpoint(path: str) -> None:
    """Refuse a checkpoint given by name to ``--resume`` that is not
    complete.

    Args:
        path (str): The checkpoint.

    Raises:
        CorruptCheckpointError: Naming the file and what is wrong.
    """
    problem = checkpoint_problem(path)
    if problem is not None:
        raise CorruptCheckpointError(
            f'cannot resume from {path}: {problem}. The file is kept. '
            '`--resume` without a path (or `--resume auto`) resumes from the '
            'newest complete checkpoint of the work dir instead.')


__all__ = [
    'CorruptCheckpointError', 'checkpoint_problem',
    'newest_complete_checkpoint', 'set_aside', 'check_resume_checkpoint'
]
