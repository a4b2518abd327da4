# Copyright (c) mmsim contributors. All rights reserved.
"""Writing files so that a crash leaves the old content or all of the new
(a ``.part`` file, fsync, rename), and removing what a failure left."""
import os
import os.path as osp
import shutil

#: Suffix of a checkpoint being written; renamed away once complete.
PART_SUFFIX = '.part'


def fsync_path(path: str) -> None:
    """Flush a file's (or a folder's entries') data to the disk.

    Args:
        path (str): A file, or a folder after a rename inside it.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(part_path: str, path: str) -> None:
    """Make the complete file ``part_path`` appear as ``path`` in one step.

    The data are flushed first and the folder after the rename, so after a
    crash ``path`` holds either its old content or all of the new one.

    Args:
        part_path (str): The written file, in the same folder as ``path``.
        path (str): The final name (replaced if it exists).
    """
    fsync_path(part_path)
    os.replace(part_path, path)
    fsync_path(osp.dirname(osp.abspath(path)))


def write_text_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    Args:
        path (str): The file to write (e.g. the work dir's
            ``last_checkpoint``).
        text (str): Its new content.
    """
    part_path = path + PART_SUFFIX
    with open(part_path, 'w') as f:
        f.write(text)
    replace_atomically(part_path, path)


def remove_path(path: str) -> None:
    """Remove a file or a folder (deepspeed saves folders), if there."""
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif osp.lexists(path):
        try:
            os.remove(path)
        except OSError:
            pass


__all__ = [
    'PART_SUFFIX', 'fsync_path', 'replace_atomically', 'write_text_atomically',
    'remove_path'
]
