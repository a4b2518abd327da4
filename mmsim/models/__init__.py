# Copyright (c) mmsim contributors. All rights reserved.
from ..layers.token_batch_norm import SIMTokenBN  # noqa: F401 (registers)
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
