# The tiny SIM model of the CPU-sized configs, host-free (both hosts'
# tiny bases, ./sim_vit-tiny-p16.py and
# ../../mmpretrain/sim/_base_/sim_vit-tiny-p16.py, inherit it): the tiny ViT
# of ../../_base_/models/vit-tiny-p16.py (192 wide, 6 blocks, patch 16) on
# 96 px views, a 6 x 6 grid, a 1-block projector and a 2-block predictor
# 192 wide, m_0 = 0.99; the encoder's linears start truncated normal
# (below).
_base_ = [
    'sim_vit-base-p16.py',
    '../../_base_/models/vit-tiny-p16.py',
]

sim_tiny_grid = _base_.vit_tiny_img_size // _base_.vit_tiny_patch_size
model = dict(
    base_momentum=0.99,
    backbone=dict(
        arch=dict(_delete_=True, **_base_.vit_tiny_arch),
        img_size=_base_.vit_tiny_img_size,
        patch_size=_base_.vit_tiny_patch_size,
        # Not the release's xavier: at these few hundred steps a backbone
        # started from xavier-scale linears fine-tunes 3-5 box AP worse
        # than one at ViTDet's truncated normal 0.02, pre-trained or not
        # (docs/benchmarks/dense_transfer_log.md). The ViT-B/L recipes keep
        # the release's init.
        linear_init='trunc_normal'),
    neck=dict(
        in_channels=_base_.vit_tiny_arch['embed_dims'],
        embed_dims=_base_.vit_tiny_arch['embed_dims'],  # D = D_e here
        grid_size=sim_tiny_grid,
        num_projector_layers=1,
        num_predictor_layers=2,
        num_heads=4))
