# Copyright (c) mmsim contributors. All rights reserved.
"""The README's components table lists exactly what the package
registers, each in the registry it is registered in (read from the
source, independently of the table)."""
import os.path as osp
import re

from tests.test_packaging import REPO, _registrations

SECTION = '## Registered components'
ROW = re.compile(r'^\| `(?P<type>\w+)` \| `(?P<registry>[\w.]+)` \|')


def readme_components():
    """``(registry module, registry name, type)`` of every row of the
    README's components table, e.g. ``('mmselfsup.registry', 'MODELS',
    'SIM')`` for a row ``| `SIM` | `mmselfsup.registry.MODELS` | ... |``.
    """
    with open(osp.join(REPO, 'README.md')) as f:
        text = f.read()
    assert SECTION in text, f'README.md has no "{SECTION}" section'
    section = text.split(SECTION, 1)[1].split('\n## ', 1)[0]
    rows = []
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            module, name = match['registry'].rsplit('.', 1)
            rows.append((module, name, match['type']))
    return rows


def test_components_table_matches_the_registries():
    rows = readme_components()
    assert len(rows) == len(set(rows)), 'a component is listed twice'
    registered = set(_registrations())
    listed = set(rows)
    assert listed - registered == set(), 'listed but not registered there'
    assert registered - listed == set(), 'registered but not in README.md'
