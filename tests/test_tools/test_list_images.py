# Copyright (c) mmsim contributors. All rights reserved.
"""tools/data/list_images.py: the readable images of a folder."""
import importlib.util
import io
import os
import os.path as osp
import sys

import numpy as np
from PIL import Image

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'data', 'list_images.py')


def _tool():
    spec = importlib.util.spec_from_file_location('list_images', TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules['list_images'] = module  # workers unpickle its functions
    spec.loader.exec_module(module)
    return module


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    Image.fromarray(pixels).save(buffer, 'JPEG')
    return buffer.getvalue()


def test_broken_files_are_named_and_left_out(tmp_path, capsys):
    """A truncated JPEG (which PIL's verify() passes), an empty file: named
    with the loader's reason; the good ones listed; the same with two
    worker processes."""
    content = _jpeg_bytes()
    (tmp_path / 'b').mkdir()
    (tmp_path / 'b' / 'good.jpg').write_bytes(content)
    (tmp_path / 'a.JPEG').write_bytes(content)
    (tmp_path / 'b' / 'cut.jpg').write_bytes(content[:len(content) // 2])
    (tmp_path / 'empty.png').write_bytes(b'')
    out = tmp_path / 'image_list.txt'  # the default: no subfolder
    for workers in ('1', '2'):
        assert _tool().main([str(tmp_path), '--workers', workers]) == 0
        assert out.read_text() == 'a.JPEG\nb/good.jpg\n'
        printed = capsys.readouterr().out
        assert 'unreadable: b/cut.jpg: OSError: image file is truncated' \
            in printed
        assert 'unreadable: empty.png: ValueError: the file is empty' \
            in printed
        assert printed.splitlines()[-1].startswith(
            f'2 readable image(s) listed in {out}; 2 left out')
    assert oct(os.stat(out).st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def test_nothing_readable_writes_nothing(tmp_path, capsys):
    """No readable image: exit 1, an existing list keeps its bytes."""
    (tmp_path / 'x.jpg').write_bytes(b'text')
    out = tmp_path / 'list.txt'
    out.write_text('old\n')
    assert _tool().main([str(tmp_path), '--out', str(out)]) == 1
    assert out.read_text() == 'old\n'
    assert 'no readable image' in capsys.readouterr().err
    assert _tool().main([str(tmp_path / 'absent')]) == 1


def _png(path, value=0, mode='RGB', fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((12, 10, 3), value, np.uint8)
    pixels[::3] = 255 - value
    Image.fromarray(pixels).convert(mode).save(path, fmt)


def test_pillow_formats_are_read_and_skipped_files_named(tmp_path, capsys):
    """WEBP, GIF and TIFF photos are listed (Pillow reads them, and so does
    the pre-training loader); every skipped file is named; past five they
    are counted by extension."""
    for name in ('a.webp', 'b.gif', 'c.tiff', 'd.png'):
        _png(tmp_path / name, 40, 'P' if name.endswith('gif') else 'RGB')
    (tmp_path / 'notes.txt').write_text('x')
    assert _tool().main([str(tmp_path)]) == 0
    assert (tmp_path / 'image_list.txt').read_text().splitlines() == [
        'a.webp', 'b.gif', 'c.tiff', 'd.png'
    ]
    printed = capsys.readouterr().out
    assert 'skipped: notes.txt: not an image extension' in printed
    (tmp_path / 'docs').mkdir()
    for i in range(7):
        (tmp_path / 'docs' / f'{i}.{"json" if i < 2 else "txt"}') \
            .write_text('x')
    assert _tool().main([str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    named = [line for line in lines if line.startswith('skipped: ')]
    assert named[:5] == [
        f'skipped: {rel}: not an image extension (see --extensions)'
        for rel in ('notes.txt', 'docs/0.json', 'docs/1.json', 'docs/2.txt',
                    'docs/3.txt')
    ]  # the list itself (image_list.txt) is not counted
    assert named[5] == ('skipped: 3 more (not an image extension (see '
                        '--extensions)): .txt 3')
    assert lines[-1].endswith('8 other file(s) skipped (above)')


def test_the_default_list_is_not_taken_for_a_class(tmp_path, capsys):
    """Listing a labelled folder with the default output leaves its class
    folders as they were for mmcls's scan, and says where the list went;
    an --out in a subfolder (the old meta/train.txt) gets a note."""
    from mmcls.datasets import CustomDataset
    for name in ('cat', 'dog'):
        _png(tmp_path / name / '0.png')
    assert _tool().main([str(tmp_path)]) == 0
    out = tmp_path / 'image_list.txt'
    assert capsys.readouterr().out.splitlines()[-1].startswith(
        f'2 readable image(s) listed in {out}')
    assert CustomDataset(data_root=str(tmp_path), ann_file='').CLASSES == \
        ('cat', 'dog')
    old = tmp_path / 'meta' / 'train.txt'
    assert _tool().main([str(tmp_path), '--out', str(old)]) == 0
    assert f'note: {old} is in a subfolder of' in capsys.readouterr().out
    assert 'meta' in CustomDataset(data_root=str(tmp_path), ann_file='') \
        .CLASSES  # the trap the note is about


def test_also_checks_the_labelled_knn_folders(tmp_path, capsys):
    """--also: the kNN folders' images are decoded by the monitor's loader
    (a broken one named), and class folders that differ between them (a
    meta/ in train/ only) are an error naming both lists; exit 1, the
    list still written. Clean folders: exit 0."""
    _png(tmp_path / 'unlabelled' / 'x.png')
    for split in ('train', 'val'):
        for name in ('boot', 'coat'):
            _png(tmp_path / 'knn' / split / name / '0.png', 30)
    args = [
        str(tmp_path / 'unlabelled'), '--also',
        str(tmp_path / 'knn' / 'train'),
        str(tmp_path / 'knn' / 'val')
    ]
    assert _tool().main(args) == 0
    assert '2 image(s) in 2 class folder(s) of ' in capsys.readouterr().out
    (tmp_path / 'knn' / 'val' / 'coat' / '1.png').write_bytes(b'not a png')
    (tmp_path / 'knn' / 'train' / 'meta').mkdir()
    (tmp_path / 'knn' / 'train' / 'meta' / 'train.txt').write_text('a\n')
    assert _tool().main(args) == 1
    captured = capsys.readouterr()
    assert f'unreadable: {tmp_path}/knn/val/coat/1.png: ValueError: the ' \
        'decoder returned no image' in captured.out
    assert 'meta holds no image, but the scan takes it for a class' in \
        captured.err
    assert "['boot', 'coat', 'meta']" in captured.err
    assert "['boot', 'coat']" in captured.err
    assert (tmp_path / 'unlabelled' / 'image_list.txt').read_text() == \
        'x.png\n'
