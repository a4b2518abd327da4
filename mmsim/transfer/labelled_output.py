# Copyright (c) mmsim contributors. All rights reserved.
"""Every line a fine-tune prints, prefixed with its run's name (``[SIM] ``,
``[random] ``), so that runs printing at once stay apart."""
import contextlib
import io
import sys
import threading
from typing import Iterator, TextIO


class LinePrefixer(io.TextIOBase):
    """A text stream that writes each complete line to ``stream`` with
    ``prefix`` in front, in one write and flush per :meth:`write` call (a
    line from another process cannot land inside it).

    A line's start is held until its end arrives (``'loading x ... '``
    then ``'2.1 s\\n'`` give one line); :meth:`finish` writes a pending
    start with a newline.

    Args:
        stream (TextIO): Where the lines go.
        prefix (str): Put before every line, e.g. ``'[SIM] '``.

    Examples:
        >>> out = io.StringIO()
        >>> labelled = LinePrefixer(out, '[SIM] ')
        >>> labelled.write('a\\nb')
        3
        >>> labelled.write('c\\n')
        2
        >>> out.getvalue()
        '[SIM] a\\n[SIM] bc\\n'
    """

    def __init__(self, stream: TextIO, prefix: str) -> None:
        super().__init__()
        self.stream = stream
        self.prefix = prefix
        self._pending = ''
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        """Write the complete lines of ``text`` (and of a pending start)
        with the prefix; hold its last, unfinished line. Returns
        ``len(text)``."""
        with self._lock:
            *lines, self._pending = (self._pending + text).split('\n')
            if lines:
                self.stream.write(''.join(self.prefix + line + '\n'
                                          for line in lines))
                self.stream.flush()
        return len(text)

    def finish(self) -> None:
        """Write a pending line start, ended by a newline."""
        if self._pending:
            self.write('\n')

    def flush(self) -> None:
        self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, 'encoding', 'utf-8')


@contextlib.contextmanager
def labelled_output(name: str) -> Iterator[None]:
    """Prefix every line written to ``sys.stdout`` and ``sys.stderr``
    inside the block with ``[name] ``: prints, warnings and the logger of
    an mmengine runner built inside it (its handler takes the
    ``sys.stdout`` of that moment).

    Args:
        name (str): The run's name.
    """
    out = LinePrefixer(sys.stdout, f'[{name}] ')
    err = LinePrefixer(sys.stderr, f'[{name}] ')
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    finally:
        out.finish()
        err.finish()


__all__ = ['LinePrefixer', 'labelled_output']
