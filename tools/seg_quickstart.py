# Copyright (c) mmsim contributors. All rights reserved.
"""Quick start, tiny UperNet: ``transfer_quickstart.py --task seg``
under its former name (same arguments)."""
import os.path as osp
import runpy
import sys
from typing import List, Optional

TOOL = osp.join(osp.dirname(osp.abspath(__file__)), 'transfer_quickstart.py')


def main(argv: Optional[List[str]] = None) -> int:
    return runpy.run_path(TOOL)['main'](argv, task='seg')


if __name__ == '__main__':
    sys.exit(main())
