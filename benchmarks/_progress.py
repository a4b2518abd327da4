# Copyright (c) mmsim contributors. All rights reserved.
"""``[k/N] name ... elapsed, ETA`` lines for the benchmark drivers' stages.

Each stage prints one line as it starts, with the time since the first
stage and an estimate of the time left for it and the stages after it:
the mean seconds per unit of weight of the finished stages times the
weight still to run (stages weigh 1 unless told otherwise). The last line,
from :meth:`StageProgress.finish`, gives the total.
"""
import sys
import time
from typing import Callable, Optional, Sequence, TextIO, Union


def format_duration(seconds: float) -> str:
    """A duration for a progress line.

    Args:
        seconds (float): Seconds (>= 0).

    Returns:
        str: ``'42 s'`` below a minute, ``'3.5 min'`` below an hour, else
        ``'1.2 h'``.
    """
    if seconds < 59.5:
        return f'{seconds:.0f} s'
    if seconds < 3570:
        return f'{seconds / 60:.1f} min'
    return f'{seconds / 3600:.1f} h'


class StageProgress:
    """Counts a driver's stages and prints their progress lines.

    Args:
        weights (int | Sequence[float]): The number of stages (each of
            weight 1), or each stage's expected relative cost, in order.
        file (TextIO, optional): Where to print. Defaults to the current
            ``sys.stdout``.
        clock (callable): Seconds now. Defaults to ``time.monotonic``.

    Examples:
        >>> stages = StageProgress(2)
        >>> stages.start('pre-train')  # [1/2] pre-train ... 0 s, ETA ?
        >>> stages.start('evaluate')   # [2/2] evaluate ... 40 s, ETA 40 s
        >>> stages.finish()            # [2/2] done in 1.3 min
    """

    def __init__(self,
                 weights: Union[int, Sequence[float]],
                 file: Optional[TextIO] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(weights, int):
            weights = [1.] * weights
        self.weights: Sequence[float] = [float(w) for w in weights]
        if not self.weights or min(self.weights) <= 0:
            raise ValueError('StageProgress needs at least one stage, each '
                             f'of positive weight; got {list(weights)}')
        self.file = file
        self.clock = clock
        self.started = 0  # stages started so far
        self._t0: Optional[float] = None

    @property
    def total(self) -> int:
        """Number of stages N."""
        return len(self.weights)

    def elapsed(self) -> float:
        """Seconds since the first stage started (0 before it)."""
        return 0. if self._t0 is None else self.clock() - self._t0

    def eta(self) -> Optional[float]:
        """Seconds left for the stages not finished (the current one
        included), from the pace of the finished ones, as of the moment
        the current stage started; None before any has finished.

        Returns:
            float, optional: The estimate.
        """
        finished = max(self.started - 1, 0)
        done = sum(self.weights[:finished])
        if finished == 0 or self.elapsed() <= 0:
            return None
        return self.elapsed() / done * sum(self.weights[finished:])

    def _print(self, line: str) -> None:
        print(
            line,
            file=sys.stdout if self.file is None else self.file,
            flush=True)

    def start(self, name: str) -> str:
        """Begin the next stage and print its line (a stage beyond the
        planned ones adds one of weight 1 rather than stop the driver).

        Args:
            name (str): What the stage does.

        Returns:
            str: The line printed, e.g. ``[3/10] MAE ... 2.1 min, ETA
            7.0 min``.
        """
        if self.started >= self.total:  # more than planned: count it in
            self.weights = list(self.weights) + [1.]
        if self._t0 is None:
            self._t0 = self.clock()
        self.started += 1
        eta = self.eta()
        line = (f'[{self.started}/{self.total}] {name} ... '
                f'{format_duration(self.elapsed())}, ETA '
                f'{"?" if eta is None else format_duration(eta)}')
        self._print(line)
        return line

    def finish(self) -> str:
        """Print (and return) the closing line with the total time."""
        line = (f'[{self.started}/{self.total}] done in '
                f'{format_duration(self.elapsed())}')
        self._print(line)
        return line
