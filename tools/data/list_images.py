# Copyright (c) mmsim contributors. All rights reserved.
"""List the readable images of a folder for label-free pre-training.

Walks FOLDER (subfolders included), decodes every file with an image
extension through the pre-training loader (``SIMLoadImageFromFile`` with
Pillow, as the shipped SIM configs read images), and writes the paths of
the readable ones, relative to FOLDER, sorted, one per line and without a
label: the annotation file of mmselfsup's ``ImageList`` dataset. The file
is written atomically (a temporary file renamed over ``--out``). Each file
left out is printed with the reason; the last line counts them.

Example::

    python tools/data/list_images.py data/my_images \\
        --out data/my_images/meta/train.txt

Exit status 0 when at least one image is readable (also when some are
not), 1 when none is (nothing is written) or FOLDER is not a folder.
"""
import argparse
import multiprocessing
import os
import os.path as osp
import sys
import tempfile
from typing import Iterator, List, Optional, Sequence, Tuple

#: mmcls's ``CustomDataset`` default extensions (compared lower-case).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('folder', help='folder of images (walked)')
    parser.add_argument(
        '--out',
        help='list to write (default: FOLDER/meta/train.txt); its paths '
        'are relative to FOLDER, the data_root of the dataset')
    parser.add_argument(
        '--extensions',
        nargs='+',
        default=list(IMAGE_EXTENSIONS),
        help='file endings taken as images, any case (default: mmcls\'s '
        f'{" ".join(IMAGE_EXTENSIONS)})')
    parser.add_argument(
        '--workers',
        type=int,
        default=1,
        help='processes that decode the images (default: 1)')
    return parser.parse_args(argv)


def walk_files(folder: str) -> Iterator[str]:
    """Every file under ``folder``, as a sorted relative POSIX path.

    Args:
        folder (str): The root.

    Yields:
        str: E.g. ``'holiday/beach/001.jpg'``.
    """
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            rel = osp.relpath(osp.join(root, name), folder)
            yield rel.replace(os.sep, '/')


def check_image(path: str) -> Optional[str]:
    """Why the pre-training loader cannot read ``path``, or None.

    Args:
        path (str): An image file.

    Returns:
        str, optional: The reason (e.g. ``'ValueError: the file is empty
        (0 bytes)'``); None when it decodes.
    """
    from PIL import UnidentifiedImageError

    from mmsim.datasets.transforms import SIMLoadImageFromFile
    loader = SIMLoadImageFromFile(imdecode_backend='pillow')
    try:
        loader.transform(dict(img_path=path))
    except Exception as error:  # the loader names the file; keep why
        cause = error.__cause__ or error
        if isinstance(cause, UnidentifiedImageError):
            return 'UnidentifiedImageError: not an image file Pillow can read'
        return f'{type(cause).__name__}: {cause}'
    return None


def _check(item: Tuple[str, str]) -> Tuple[str, Optional[str]]:
    rel, path = item
    return rel, check_image(path)


def write_list_atomically(lines: Sequence[str], out: str) -> None:
    """Write ``lines`` to ``out`` through a temporary file in its folder.

    Args:
        lines (Sequence[str]): One entry per line.
        out (str): Destination; its folder is created. The file gets the
            mode of any new file (``0o666`` less the umask).
    """
    from mmsim.transfer.checkpoint_io import default_file_mode
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    handle, tmp_path = tempfile.mkstemp(
        dir=folder, prefix='.' + osp.basename(out), suffix='.tmp')
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(''.join(f'{line}\n' for line in lines))
        os.chmod(tmp_path, default_file_mode())
        os.replace(tmp_path, out)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    folder = args.folder
    if not osp.isdir(folder):
        print(f'error: {folder} is not a folder', file=sys.stderr)
        return 1
    out = args.out or osp.join(folder, 'meta', 'train.txt')
    endings = tuple(e.lower() for e in args.extensions)
    images, others, left_out = [], 0, 0
    for rel in walk_files(folder):
        if not rel.lower().endswith(endings):
            others += 1
        elif any(char.isspace() for char in rel):
            # ImageList splits each line on whitespace
            print(f'not listed: {rel}: whitespace in the path, which '
                  "mmselfsup's ImageList cannot read from a list: rename it")
            left_out += 1
        else:
            images.append((rel, osp.join(folder, rel)))
    readable = []
    if args.workers > 1:
        with multiprocessing.Pool(args.workers) as pool:
            results = list(pool.imap(_check, images, chunksize=64))
    else:
        results = [_check(item) for item in images]
    for rel, reason in results:
        if reason is None:
            readable.append(rel)
        else:
            print(f'unreadable: {rel}: {reason}')
            left_out += 1
    summary = (f'{left_out} left out (above), {others} other file(s) '
               f'skipped (not {"/".join(endings)})')
    if not readable:
        print(
            f'error: no readable image under {folder}; {summary}; nothing '
            'written',
            file=sys.stderr)
        return 1
    write_list_atomically(readable, out)
    print(f'{len(readable)} readable image(s) listed in {out}; {summary}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
