# Copyright (c) mmsim contributors. All rights reserved.
"""Convert the SIM authors' released checkpoint into SIMViTDet backbone
weights: ``sim_to_vitdet.py --release`` under its former name.

The released weights are licensed CC-BY-NC 4.0 (non-commercial use only).

Example::

    python tools/model_converters/release_to_vitdet.py \
        sim_base_1600ep_pretrain.pth checkpoints/sim-release_vitdet.pth
"""
import sys
from typing import List, Optional

from mmsim.transfer.cli import converter_main


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return converter_main('vitdet', ['--release', *argv], __doc__)


if __name__ == '__main__':
    sys.exit(main())
