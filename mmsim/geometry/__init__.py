# Copyright (c) mmsim contributors. All rights reserved.
"""Host-free geometry of SIM's two views (numpy and torch only)."""
from .rel_pos import REL_POS_FIELDS, CropBox, decode_rel_pos, encode_rel_pos

__all__ = ['REL_POS_FIELDS', 'CropBox', 'decode_rel_pos', 'encode_rel_pos']
