# Copyright (c) mmsim contributors. All rights reserved.
"""List the readable images of a folder for label-free pre-training.

Walks FOLDER (subfolders included), decodes every file with an image
extension (the raster formats Pillow reads) through the pre-training loader
(``SIMLoadImageFromFile`` with Pillow, as the shipped SIM configs read
images), and writes the paths of the readable ones, relative to FOLDER,
sorted, one per line and without a label: the annotation file of
mmselfsup's ``ImageList`` dataset. The default list is
``FOLDER/image_list.txt``: a file at the top of FOLDER, which no folder
scan takes for a class (mmcls's scan takes every subfolder, e.g. a
``meta/``, as one). The file is written atomically (a temporary file
renamed over ``--out``). Each file left out is printed with the reason,
each skipped one by name (past five, counted by extension); the last line
says where the list went.

``--also`` checks the labelled folders of the kNN monitor (mmcls's layout,
one subfolder per class, read by a folder scan): every image decoded by
the monitor's loader (``SIMLoadImageFromFile``, mmcv's default decoder),
and the class folders the same in all of them.

Example::

    python tools/data/list_images.py data/my_images \\
        --also data/my_labelled/train data/my_labelled/val

Exit status 0 when at least one image is readable (also when some are
not) and the ``--also`` folders pass, 1 otherwise (no list is written
when no image is readable) or when FOLDER is not a folder.
"""
import argparse
import collections
import multiprocessing
import os
import os.path as osp
import sys
import tempfile
from typing import Iterator, List, Optional, Sequence, Tuple

#: mmcls's ``CustomDataset`` extensions: what its folder scan takes.
SCAN_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif')
#: Pillow's formats that the pre-training loader decodes.
PILLOW_FORMATS = ('JPEG', 'PNG', 'PPM', 'BMP', 'DIB', 'TIFF', 'WEBP', 'GIF',
                  'TGA', 'ICO', 'PCX', 'JPEG2000', 'AVIF', 'QOI')
#: Skipped files named one by one; past this many, counted by extension.
NAMED_SKIPS = 5
DEFAULT_LIST = 'image_list.txt'


def image_extensions() -> Tuple[str, ...]:
    """mmcls's extensions and those of :data:`PILLOW_FORMATS` that the
    installed Pillow opens, lower-case and sorted."""
    from PIL import Image
    Image.init()
    found = set(SCAN_EXTENSIONS)
    found.update(ext for ext, fmt in Image.registered_extensions().items()
                 if fmt in PILLOW_FORMATS and fmt in Image.OPEN)
    return tuple(sorted(found))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('folder', help='folder of images (walked)')
    parser.add_argument(
        '--out',
        help=f'list to write (default: FOLDER/{DEFAULT_LIST}); its paths '
        'are relative to FOLDER, the data_root of the dataset')
    parser.add_argument(
        '--extensions',
        nargs='+',
        help='file endings taken as images, any case (default: the raster '
        "formats Pillow reads, mmcls's included)")
    parser.add_argument(
        '--also',
        nargs='+',
        default=[],
        metavar='LABELLED',
        help="the kNN monitor's labelled folders (one subfolder per class): "
        'decode their images with its loader, compare their classes')
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


def check_image(path: str, backend: str = 'pillow') -> Optional[str]:
    """Why the loader cannot read ``path``, or None.

    Args:
        path (str): An image file.
        backend (str): ``SIMLoadImageFromFile``'s ``imdecode_backend``:
            ``'pillow'`` (pre-training) or ``'cv2'`` (the kNN monitor).
            Defaults to ``'pillow'``.

    Returns:
        str, optional: The reason (e.g. ``'ValueError: the file is empty
        (0 bytes)'``); None when it decodes.
    """
    from PIL import UnidentifiedImageError

    from mmsim.datasets.transforms import SIMLoadImageFromFile
    loader = SIMLoadImageFromFile(imdecode_backend=backend)
    try:
        loader.transform(dict(img_path=path))
    except Exception as error:  # the loader names the file; keep why
        cause = error.__cause__ or error
        if isinstance(cause, UnidentifiedImageError):
            return 'UnidentifiedImageError: not an image file Pillow can read'
        return f'{type(cause).__name__}: {cause}'
    return None


def _check(item: Tuple[str, str, str]) -> Tuple[str, Optional[str]]:
    rel, path, backend = item
    return rel, check_image(path, backend)


def check_all(items: Sequence[Tuple[str, str, str]],
              workers: int) -> List[Tuple[str, Optional[str]]]:
    """:func:`check_image` of ``(rel, path, backend)`` items, in order."""
    if workers > 1 and len(items) > 1:
        with multiprocessing.Pool(workers) as pool:
            return list(pool.imap(_check, items, chunksize=64))
    return [_check(item) for item in items]


def report_skipped(skipped: Sequence[str], why: str) -> None:
    """Name the first :data:`NAMED_SKIPS` skipped files, count the rest by
    extension."""
    for rel in skipped[:NAMED_SKIPS]:
        print(f'skipped: {rel}: {why}')
    rest = skipped[NAMED_SKIPS:]
    if rest:
        counts = collections.Counter(
            osp.splitext(rel)[1].lower() or '(none)' for rel in rest)
        print(f'skipped: {len(rest)} more ({why}): ' +
              ', '.join(f'{ext} {n}' for ext, n in sorted(counts.items())))


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


def check_labelled(folders: Sequence[str], workers: int) -> int:
    """Check the kNN monitor's labelled folders as its loaders read them.

    Args:
        folders (Sequence[str]): Folders of one subfolder per class.
        workers (int): Decoding processes.

    Returns:
        int: Problems found (unreadable images, empty class folders,
        missing folders, class lists that differ).
    """
    problems, classes = 0, {}
    for folder in folders:
        if not osp.isdir(folder):
            print(f'error: {folder} is not a folder', file=sys.stderr)
            problems += 1
            continue
        classes[folder] = sorted(
            d for d in os.listdir(folder) if osp.isdir(osp.join(folder, d)))
        items, ignored, per_class = [], [], collections.Counter()
        for rel in walk_files(folder):
            if '/' not in rel or not rel.lower().endswith(SCAN_EXTENSIONS):
                ignored.append(rel)
            else:
                per_class[rel.split('/')[0]] += 1
                items.append((rel, osp.join(folder, rel), 'cv2'))
        report_skipped([f'{folder}/{r}' for r in ignored],
                       "not read by mmcls's folder scan")
        for rel, reason in check_all(items, workers):
            if reason is not None:
                print(f'unreadable: {folder}/{rel}: {reason}')
                problems += 1
        for name in classes[folder]:
            if not per_class[name]:
                print(
                    f'error: {folder}/{name} holds no image, but the scan '
                    'takes it for a class',
                    file=sys.stderr)
                problems += 1
        print(f'{len(items)} image(s) in {len(classes[folder])} class '
              f'folder(s) of {folder} checked with the kNN loader')
    if len({tuple(c) for c in classes.values()}) > 1:
        listed = '; '.join(f'{f}: {c}' for f, c in classes.items())
        print(
            f'error: the labelled folders have different class folders, '
            f'so their label numbers differ: {listed}',
            file=sys.stderr)
        problems += 1
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    folder = args.folder
    if not osp.isdir(folder):
        print(f'error: {folder} is not a folder', file=sys.stderr)
        return 1
    out = args.out or osp.join(folder, DEFAULT_LIST)
    endings = tuple(e.lower() for e in args.extensions or image_extensions())
    own = osp.relpath(osp.abspath(out), osp.abspath(folder))
    images, skipped, not_listed = [], [], []
    for rel in walk_files(folder):
        if rel == own or (osp.basename(rel).startswith('.' + osp.basename(out))
                          and rel.endswith('.tmp')):
            continue  # the list itself
        if not rel.lower().endswith(endings):
            skipped.append(rel)
        elif any(char.isspace() for char in rel):
            not_listed.append(rel)  # ImageList splits lines on whitespace
        else:
            images.append((rel, osp.join(folder, rel), 'pillow'))
    report_skipped(skipped, 'not an image extension (see --extensions)')
    for rel in not_listed:
        print(f'not listed: {rel}: whitespace in the path, which '
              "mmselfsup's ImageList cannot read from a list: rename it")
    left_out = len(not_listed)
    readable = []
    for rel, reason in check_all(images, args.workers):
        if reason is None:
            readable.append(rel)
        else:
            print(f'unreadable: {rel}: {reason}')
            left_out += 1
    problems = check_labelled(args.also, args.workers) if args.also else 0
    summary = (f'{left_out} left out (above), {len(skipped)} other file(s) '
               'skipped (above)')
    if not readable:
        print(
            f'error: no readable image under {folder}; {summary}; nothing '
            'written',
            file=sys.stderr)
        return 1
    if not own.startswith('..') and '/' in own.replace(os.sep, '/'):
        print(f'note: {out} is in a subfolder of {folder}, which a folder '
              "scan (mmcls's CustomDataset, ann_file='') takes for a class")
    write_list_atomically(readable, out)
    print(f'{len(readable)} readable image(s) listed in {out}; {summary}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
