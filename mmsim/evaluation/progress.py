# Copyright (c) mmsim contributors. All rights reserved.
"""A ``done/total`` progress bar with ETA for the offline evaluations,
printed on the main process only (mmengine's ``ProgressBar``)."""
import sys
from typing import Optional, TextIO

from mmengine.dist import is_main_process
from mmengine.utils import ProgressBar


class RankZeroProgress:
    """mmengine's ``ProgressBar`` on rank 0 when enabled, else silent.

    The bar counts items (images) and shows ``done/total``, the rate, the
    elapsed time and the ETA; :meth:`close` ends its line. Under DDP only
    rank 0 prints, counting its own shard. The online monitor
    (``KNNMonitorHook``) leaves it off so that no bar lands in training
    logs.

    Args:
        total (int): Items expected (> 0 for a bar with an ETA).
        enabled (bool): Print anything at all. Defaults to True.
        desc (str, optional): A line printed above the bar, e.g.
            ``'features of 2000 images'``. Defaults to None.
        file (TextIO, optional): Where to print. Defaults to the current
            ``sys.stdout`` (looked up when the bar is made).

    Examples:
        >>> progress = RankZeroProgress(8, desc='demo')
        >>> for _ in range(4):
        ...     progress.update(2)
        >>> progress.close()
    """

    def __init__(self,
                 total: int,
                 enabled: bool = True,
                 desc: Optional[str] = None,
                 file: Optional[TextIO] = None) -> None:
        self.total = int(total)
        self.done = 0
        self._file = sys.stdout if file is None else file
        self._bar: Optional[ProgressBar] = None
        if enabled and is_main_process():
            if desc:
                self._file.write(desc + '\n')
            self._bar = ProgressBar(self.total, file=self._file)

    @property
    def active(self) -> bool:
        """Whether this process prints a bar."""
        return self._bar is not None

    def update(self, num: int = 1) -> None:
        """Count ``num`` more items done (ignored when ``num`` < 1).

        Args:
            num (int): Items just finished. Defaults to 1.
        """
        if num < 1:
            return
        self.done += num
        if self._bar is not None:
            self._bar.update(num)

    def close(self) -> None:
        """End the bar's line (once; later calls do nothing)."""
        if self._bar is not None:
            self._file.write('\n')
            self._file.flush()
            self._bar = None


def loader_length(dataloader) -> int:
    """Samples this process reads from ``dataloader``: its sampler's
    length (a shard under DDP), else the dataset's.

    Args:
        dataloader: A ``torch.utils.data.DataLoader``.

    Returns:
        int: Number of samples (0 when unknown).
    """
    for source in (getattr(dataloader, 'sampler',
                           None), getattr(dataloader, 'dataset', None)):
        try:
            return len(source)
        except TypeError:
            continue
    return 0
