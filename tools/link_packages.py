"""Share torch's installed files between two virtual environments.

``tools/setup_env.sh`` makes two environments on the frozen stack (one per
host) with the same torch 2.0.1 build, whose files (torch, torchvision,
triton and the CUDA libraries of the ``nvidia-*`` wheels) take about 4.5 GB
in each. Before installing torch into the second one, this script hard-links
those distributions from the first, so they are stored once on disk and not
downloaded again; pip then finds them installed and installs the rest.

Only whole distributions are linked, each one's data files first and its
``.dist-info`` last, so an interrupted run leaves nothing pip counts as
installed. Console scripts (``torchrun``) are copied with the interpreter
line rewritten for the target environment. Links need both environments on
one file system; where they are not (or anything else fails), the script
says so and exits 1, and the caller installs as usual.

Usage::

    python tools/link_packages.py SOURCE_VENV TARGET_VENV torch==2.0.1 ...
"""
import argparse
import csv
import os
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List, Tuple

#: Distributions linked besides the ones named on the command line.
SHARED_PREFIXES = ('nvidia-', 'triton')


def site_packages(venv: Path) -> Path:
    """The ``site-packages`` folder of ``venv`` for this interpreter's
    version (both environments must use the same one)."""
    rel = Path(sysconfig.get_path('purelib', vars={'base': '.'}))
    return venv / rel


def installed(site: Path) -> Dict[str, Tuple[str, Path]]:
    """Map each normalised distribution name in ``site`` to its version and
    ``.dist-info`` folder."""
    dists = {}
    for info in site.glob('*.dist-info'):
        name, _, version = info.name[:-len('.dist-info')].partition('-')
        dists[name.lower().replace('_', '-')] = (version, info)
    return dists


def wanted(dists: Dict[str, Tuple[str, Path]], pins: List[str]) -> List[str]:
    """The distributions to link: each ``name==version`` pin, which must be
    installed at that version in the source, and every installed
    distribution whose name starts with one of :data:`SHARED_PREFIXES`."""
    names = []
    for pin in pins:
        name, _, version = pin.partition('==')
        name = name.lower().replace('_', '-')
        if name not in dists or dists[name][0] != version:
            have = dists[name][0] if name in dists else 'not installed'
            raise LookupError(f'{pin}: the source has {have}')
        names.append(name)
    names += [n for n in dists if n.startswith(SHARED_PREFIXES)]
    return names


def record_files(info: Path) -> List[str]:
    """Paths (relative to site-packages) listed in ``info``'s RECORD."""
    with open(info / 'RECORD', newline='') as f:
        return [row[0] for row in csv.reader(f) if row]


def link_distribution(info: Path, src_site: Path, dst_site: Path,
                      dst_venv: Path) -> int:
    """Link one distribution's files into ``dst_site``; return bytes shared.

    Files outside site-packages (``../../../bin/torchrun``) are console
    scripts: copied, the first line pointing at the target's interpreter.
    """
    shared = 0
    paths = record_files(info)
    meta = [p for p in paths if p.split('/', 1)[0] == info.name]
    for rel in [p for p in paths if p not in meta] + meta:
        src = os.path.normpath(src_site / rel)
        dst = os.path.normpath(dst_site / rel)
        if not os.path.isfile(src):
            continue  # RECORD lists .pyc files that were never written
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            os.remove(dst)
        if rel.startswith('..'):
            with open(src, 'rb') as f:
                first, rest = f.readline(), f.read()
            if first.startswith(b'#!'):
                first = f'#!{dst_venv / "bin" / "python"}\n'.encode()
            with open(dst, 'wb') as f:
                f.write(first + rest)
            shutil.copymode(src, dst)
        else:
            os.link(src, dst)
            shared += os.path.getsize(dst)
    return shared


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('source', type=Path, help='environment to link from')
    parser.add_argument('target', type=Path, help='environment to link into')
    parser.add_argument('pins', nargs='+', help='name==version to link')
    args = parser.parse_args()
    src_site, dst_site = site_packages(args.source), site_packages(args.target)
    try:
        dists = installed(src_site)
        names = wanted(dists, args.pins)
        total = sum(
            link_distribution(dists[n][1], src_site, dst_site,
                              args.target.resolve()) for n in names)
    except (LookupError, OSError) as err:
        print(
            f'[link_packages] not linked from {src_site}: {err}',
            file=sys.stderr)
        return 1
    print(
        f'[link_packages] {len(names)} distributions ({total / 2**30:.1f} '
        f'GiB) linked from {args.source} into {args.target}',
        file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
