# Copyright (c) mmsim contributors. All rights reserved.
"""Convert an mmsim SIM checkpoint (or, with --release, the SIM authors'
released checkpoint) into weights of mmsegmentation's MAE backbone.

The position embedding keeps its pre-training grid; mmseg's MAE resizes it
when it loads (see mmsim/transfer/mmseg.py). The released weights are
licensed CC-BY-NC 4.0 (non-commercial use only).

Example::

    python tools/model_converters/sim_to_mmseg.py \
        work_dirs/sim/epoch_1600.pth checkpoints/sim_vit-base-p16_mmseg.pth \
        --config configs/benchmarks/mmsegmentation/ade20k/\
upernet_sim-vit-b-p16_8xb2-amp-160k_ade20k-512x512.py
    python tools/model_converters/sim_to_mmseg.py --release \
        sim_base_1600ep_pretrain.pth checkpoints/sim_vit-base-p16_mmseg.pth
"""
import sys
from typing import List, Optional

from mmsim.transfer.cli import converter_main


def main(argv: Optional[List[str]] = None) -> int:
    return converter_main('mmseg', argv, __doc__)


if __name__ == '__main__':
    sys.exit(main())
