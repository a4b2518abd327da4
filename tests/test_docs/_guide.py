# Copyright (c) mmsim contributors. All rights reserved.
"""Run a guide's commands as written: read them from its fenced blocks
and run them in a scratch folder that sees the checkout's ``tools/``,
``configs/`` and ``tests/`` through links."""
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

from tests._subprocess_env import cpu_subprocess_env

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_FENCE = re.compile(r'^```(\w*)\n(.*?)^```', re.M | re.S)


def read_guide(name: str) -> str:
    """The text of ``docs/<name>``."""
    with open(osp.join(REPO, 'docs', name), encoding='utf-8') as handle:
        return handle.read()


def blocks(text: str, language: str) -> List[str]:
    """The fenced blocks of ``language`` (e.g. ``'bash'``) in ``text``."""
    return [body for lang, body in _FENCE.findall(text) if lang == language]


def commands(text: str) -> List[str]:
    """Every command of the bash blocks, continuation lines joined and
    comments dropped."""
    found = []
    for body in blocks(text, 'bash'):
        body = body.replace('\\\n', ' ')
        for line in body.splitlines():
            line = line.split(' #')[0].strip()
            if line and not line.startswith('#'):
                found.append(' '.join(line.split()))
    return found


def command(text: str, start: str, contains: str = '') -> str:
    """The one command of the guide that starts with ``start`` (and holds
    ``contains``)."""
    found = [
        c for c in commands(text) if c.startswith(start) and contains in c
    ]
    assert len(found) == 1, (start, contains, found)
    return found[0]


def config_files(text: str) -> Dict[str, str]:
    """Python blocks whose first line is ``# <relative path>.py``, by
    path."""
    files = {}
    for body in blocks(text, 'python'):
        first = body.splitlines()[0]
        if first.startswith('# ') and first.endswith('.py'):
            files[first[2:].strip()] = body
    return files


def make_workspace(folder: str, text: Optional[str] = None) -> str:
    """Link ``tools``, ``configs`` and ``tests`` of the checkout into
    ``folder`` and write the guide's config files there.

    Returns:
        str: ``folder``.
    """
    for name in ('tools', 'configs', 'tests'):
        link = osp.join(folder, name)
        if not osp.exists(link):
            os.symlink(osp.join(REPO, name), link)
    for path, body in config_files(text or '').items():
        target = osp.join(folder, path)
        os.makedirs(osp.dirname(target), exist_ok=True)
        with open(target, 'w', encoding='utf-8') as handle:
            handle.write(body)
    return folder


def run(line: str,
        cwd: str,
        extra: Sequence[str] = (),
        replace: Optional[Dict[str, str]] = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a guide command (``python`` is this interpreter) in ``cwd``.

    Args:
        line (str): The command as the guide writes it.
        cwd (str): The workspace.
        extra (Sequence[str]): Arguments appended (the test's shrinking).
        replace (dict, optional): Argument -> replacement.
        timeout (float): Seconds.

    Returns:
        subprocess.CompletedProcess: With ``stdout``, ``stderr`` and
        ``seconds``.
    """
    argv = shlex.split(line)
    if argv[0] == 'python':
        argv[0] = sys.executable
    argv = [(replace or {}).get(arg, arg) for arg in argv] + list(extra)
    env = cpu_subprocess_env()
    start = time.time()
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    done.seconds = time.time() - start
    return done


def check(done: subprocess.CompletedProcess) -> str:
    """``stdout`` + ``stderr`` of a command that must have succeeded."""
    output = done.stdout + done.stderr
    assert done.returncode == 0, f'{done.args}\n{output[-6000:]}'
    return output
