# The tiny SIM of the CPU-sized configs, for mmpretrain 1.2: the model of
# ../../../sim/_base_/sim_vit-tiny-p16.py (same sizes, same init) with
# mmpretrain's pipeline pieces (sim_pipeline.py here).
_base_ = [
    '../../../sim/_base_/sim_vit-base-p16.py',
    'sim_pipeline.py',
    '../../../_base_/models/vit-tiny-p16.py',
]

sim_tiny_grid = _base_.vit_tiny_img_size // _base_.vit_tiny_patch_size
model = dict(
    base_momentum=0.99,
    backbone=dict(
        arch=dict(_delete_=True, **_base_.vit_tiny_arch),
        img_size=_base_.vit_tiny_img_size,
        patch_size=_base_.vit_tiny_patch_size,
        linear_init='trunc_normal'),  # why: the mmselfsup twin's note
    neck=dict(
        in_channels=_base_.vit_tiny_arch['embed_dims'],
        embed_dims=_base_.vit_tiny_arch['embed_dims'],
        grid_size=sim_tiny_grid,
        num_projector_layers=1,
        num_predictor_layers=2,
        num_heads=4))

train_pipeline = [
    _base_.load_image,
    dict(
        type='SIMTwoViewCrop',
        size=_base_.vit_tiny_img_size,
        scale=(0.2, 1.0),
        view_pipelines=_base_.view_colour_pipelines),
    dict(
        type='SIMBlockMaskGenerator',
        input_size=sim_tiny_grid,
        num_masking_patches=22),
    _base_.pack_inputs,
]
