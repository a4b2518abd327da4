# Copyright (c) mmsim contributors. All rights reserved.
from .deferred_checks import DeferredChecks
from .momentum_target import MomentumTarget, cosine_momentum
from .sim import SIM, SIMStepState

__all__ = [
    'DeferredChecks', 'MomentumTarget', 'cosine_momentum', 'SIM',
    'SIMStepState'
]
