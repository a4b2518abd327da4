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
    out = tmp_path / 'meta' / 'train.txt'
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
