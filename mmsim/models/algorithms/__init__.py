# Copyright (c) mmsim contributors. All rights reserved.
from .sim import SIM

__all__ = ['SIM']
