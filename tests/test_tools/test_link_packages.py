"""tools/link_packages.py: torch's files shared between the two frozen
environments by hard links, on two small fake environments."""
import csv
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'link_packages.py'
SITE = Path(sysconfig.get_path('purelib', vars={'base': '.'}))


def _fake_dist(venv: Path, name: str, version: str, files: dict) -> None:
    """Install a distribution by hand: its files and a RECORD listing them
    (paths relative to site-packages, scripts under ``../../../bin``)."""
    site = venv / SITE
    info = f'{name.replace("-", "_")}-{version}.dist-info'
    rows = []
    for rel, data in files.items():
        path = Path(os.path.normpath(site / rel))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rows.append([rel, '', ''])
    (site / info).mkdir(parents=True)
    (site / info / 'METADATA').write_text(f'Name: {name}\n')
    rows += [[f'{info}/METADATA', '', ''], [f'{info}/RECORD', '', '']]
    with open(site / info / 'RECORD', 'w', newline='') as f:
        csv.writer(f).writerows(rows)


def _run(*args):
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        capture_output=True,
        text=True)


@pytest.fixture
def venvs(tmp_path):
    src, dst = tmp_path / 'src', tmp_path / 'dst'
    _fake_dist(
        src, 'torch', '2.0.1', {
            'torch/__init__.py': b'x = 1\n',
            'torch/lib/libtorch.so': b'\0' * 1000,
            '../../../bin/torchrun': b'#!/old/venv/bin/python\nimport torch\n',
        })
    _fake_dist(src, 'nvidia-cublas-cu11', '11.10',
               {'nvidia/cublas/lib/libcublas.so': b'\1' * 500})
    _fake_dist(src, 'sympy', '1.12', {'sympy/__init__.py': b''})
    (dst / SITE).mkdir(parents=True)
    return src, dst


def test_links_pinned_and_cuda_distributions(venvs):
    src, dst = venvs
    result = _run(src, dst, 'torch==2.0.1')
    assert result.returncode == 0, result.stderr
    assert '2 distributions' in result.stderr
    for rel in ('torch/lib/libtorch.so', 'torch/__init__.py',
                'nvidia/cublas/lib/libcublas.so',
                'torch-2.0.1.dist-info/RECORD'):
        assert os.path.samefile(src / SITE / rel, dst / SITE / rel), rel
    # unpinned, not CUDA: left for pip
    assert not (dst / SITE / 'sympy').exists()
    assert not (dst / SITE / 'sympy-1.12.dist-info').exists()
    # the console script is a copy that runs the target's interpreter
    script = dst / 'bin' / 'torchrun'
    assert not os.path.samefile(src / 'bin' / 'torchrun', script)
    assert script.read_text().splitlines() == [
        f'#!{dst.resolve() / "bin" / "python"}', 'import torch'
    ]


def test_wrong_version_links_nothing(venvs):
    src, dst = venvs
    result = _run(src, dst, 'torch==2.1.0')
    assert result.returncode == 1
    assert 'torch==2.1.0: the source has 2.0.1' in result.stderr
    assert list((dst / SITE).iterdir()) == []


def test_missing_distribution_links_nothing(venvs):
    src, dst = venvs
    result = _run(src, dst, 'torch==2.0.1', 'torchvision==0.15.2')
    assert result.returncode == 1
    assert 'torchvision==0.15.2: the source has not installed' in \
        result.stderr
    assert list((dst / SITE).iterdir()) == []
