# Copyright (c) mmsim contributors. All rights reserved.
from .unigrad_loss import (target_correlation, unigrad_loss, unigrad_negative,
                           unigrad_positive)

__all__ = [
    'target_correlation', 'unigrad_loss', 'unigrad_negative',
    'unigrad_positive'
]
