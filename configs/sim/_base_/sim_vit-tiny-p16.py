# SIM at CPU size: the tiny ViT of ../../_base_/models/vit-tiny-p16.py (192
# wide, 6 blocks, patch 16) on 96 px views, a 6 x 6 grid with 22 of 36
# patches masked (~ the release's 118 / 196), a 1-block projector and a
# 2-block predictor 192 wide, m_0 = 0.99; the crop scale (0.2, 1) of the
# paper; the encoder's linears start truncated normal. The model (written
# once, host-free, in sim_vit-tiny-p16_model.py) and mmselfsup's
# pre-training pipeline of the quick start and of the replay benchmark's
# SIM configs, which inherit them from here.
_base_ = [
    'sim_vit-tiny-p16_model.py',
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
