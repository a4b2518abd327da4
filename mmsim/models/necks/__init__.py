# Copyright (c) mmsim contributors. All rights reserved.
from .sim_neck import SIMNeck, SIMPredictor, SIMProjector

__all__ = ['SIMNeck', 'SIMPredictor', 'SIMProjector']
