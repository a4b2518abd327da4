# The tiny SIM of the CPU-sized configs, for mmpretrain 1.2: the host-free
# model of ../../../sim/_base_/sim_vit-tiny-p16_model.py with mmpretrain's
# pipeline pieces (sim_pipeline.py here).
_base_ = [
    '../../../sim/_base_/sim_vit-tiny-p16_model.py',
    'sim_pipeline.py',
]

train_pipeline = [
    _base_.load_image,
    dict(
        type='SIMTwoViewCrop',
        size=_base_.vit_tiny_img_size,
        scale=(0.2, 1.0),
        view_pipelines=_base_.view_colour_pipelines),
    dict(
        type='SIMBlockMaskGenerator',
        input_size=_base_.sim_tiny_grid,
        num_masking_patches=22),
    _base_.pack_inputs,
]
