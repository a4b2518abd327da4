# Copyright (c) mmsim contributors. All rights reserved.
"""Convert the SIM authors' released checkpoint into an mmsim SIM
checkpoint (online encoder, neck and momentum target), to continue
pre-training or evaluate it with mmsim.

The released weights are licensed CC-BY-NC 4.0 (non-commercial use only).

Example::

    python tools/model_converters/release_to_sim.py \
        sim_base_1600ep_pretrain.pth checkpoints/sim-release_mmsim.pth \
        --config configs/sim/sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py
"""
import sys
from typing import List, Optional

from mmsim.transfer.cli import converter_main


def main(argv: Optional[List[str]] = None) -> int:
    return converter_main('sim', argv, __doc__)


if __name__ == '__main__':
    sys.exit(main())
