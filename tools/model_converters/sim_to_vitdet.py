# Copyright (c) mmsim contributors. All rights reserved.
"""Convert an mmsim SIM checkpoint (or, with --release, the SIM authors'
released checkpoint) into SIMViTDet backbone weights.

The released weights are licensed CC-BY-NC 4.0 (non-commercial use only).

Example::

    python tools/model_converters/sim_to_vitdet.py \
        work_dirs/sim/epoch_8.pth checkpoints/sim_vitdet-backbone.pth
    python tools/model_converters/sim_to_vitdet.py --release \
        sim_base_1600ep_pretrain.pth checkpoints/sim-release_vitdet.pth
"""
import sys
from typing import List, Optional

from mmsim.transfer.cli import converter_main


def main(argv: Optional[List[str]] = None) -> int:
    return converter_main('vitdet', argv, __doc__)


if __name__ == '__main__':
    sys.exit(main())
