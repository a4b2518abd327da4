# Copyright (c) mmsim contributors. All rights reserved.
"""mmsim.transfer.labelled_output: every line of a run under its name."""
import io
import logging
import sys

from mmsim.transfer import LinePrefixer, labelled_output


class CountingStream(io.StringIO):
    """A text stream that records each write it gets."""

    def __init__(self):
        super().__init__()
        self.writes = []

    def write(self, text):
        self.writes.append(text)
        return super().write(text)


def test_each_complete_line_gets_the_prefix():
    out = io.StringIO()
    labelled = LinePrefixer(out, '[SIM] ')
    assert labelled.write('first\nsecond\n') == len('first\nsecond\n')
    assert out.getvalue() == '[SIM] first\n[SIM] second\n'
    labelled.write('\n')  # an empty line is a line too
    assert out.getvalue().endswith('[SIM] \n')


def test_a_line_written_in_parts_is_one_line():
    """``loading x ... `` then ``2.1 s``: held until its end, then written
    with one prefix."""
    out = io.StringIO()
    labelled = LinePrefixer(out, '[random] ')
    labelled.write('loading a.pth (1.0 kB) ... ')
    assert out.getvalue() == ''
    labelled.write('0.1 s\nwriting')
    assert out.getvalue() == '[random] loading a.pth (1.0 kB) ... 0.1 s\n'
    labelled.finish()  # the pending start, ended
    assert out.getvalue().splitlines()[-1] == '[random] writing'
    assert out.getvalue().endswith('\n')
    labelled.finish()  # nothing pending: nothing written
    assert out.getvalue().count('writing') == 1


def test_the_lines_of_one_write_go_out_in_one_write():
    """One write (and flush) per call, so that another process's line,
    written to the same pipe, cannot land inside a line."""
    out = CountingStream()
    labelled = LinePrefixer(out, '[init] ')
    labelled.write('a\nb\nc')
    assert out.writes == ['[init] a\n[init] b\n']
    labelled.write('d')
    assert out.writes == ['[init] a\n[init] b\n']
    labelled.write('\n')
    assert out.writes[-1] == '[init] cd\n'


def test_labelled_output_covers_prints_stderr_and_loggers(capsys):
    """Inside the block: prints, stderr (where warnings go) and a logger
    whose handler is made inside it (as mmengine's runner makes its own); after
    it, nothing is prefixed."""
    logger = logging.getLogger('mmsim_test_labelled_output')
    logger.propagate = False
    with labelled_output('SIM'):
        print('to stdout')
        print('to stderr', file=sys.stderr)
        print('one\ntwo', file=sys.stderr)
        handler = logging.StreamHandler(stream=sys.stdout)
        logger.addHandler(handler)
        logger.warning('logged')
        print('no newline at the end', end='')
    logger.removeHandler(handler)
    print('after')
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        '[SIM] to stdout', '[SIM] logged', '[SIM] no newline at the end',
        'after'
    ]
    assert captured.err.splitlines() == [
        '[SIM] to stderr', '[SIM] one', '[SIM] two'
    ]
