# mmselfsup 1.0.0's own MoCo v3 (MoCoV3, MoCoV3ViT, NonLinearNeck,
# MoCoV3Head with its predictor, temperature 0.2) with the replay
# benchmark's ViT-Tiny-sized encoder, on the shared data, optimiser and
# schedule of _base_/replay_shapes.py (AdamW, as mmselfsup's ViT recipe,
# but with the shared lr and schedule).
_base_ = [
    'mmselfsup::selfsup/_base_/models/mocov3_vit-small-p16.py',
    '_base_/replay_shapes.py',
    '../../../configs/_base_/models/vit-tiny-p16.py',
    # the colour views (the same BYOL-style pair as SIM's)
    '../../../configs/sim/_base_/sim_pipeline.py',
]

# KNNMonitorHook
custom_imports = dict(imports=['mmsim'], allow_failed_imports=False)

model = dict(
    base_momentum=0.99,  # mmselfsup's, cosine to 1 (as SIM's 0.99 here)
    backbone=dict(
        # the same encoder as every replay config (SIM's ViT-Tiny); MoCoV3ViT
        # keeps mmcls's final LayerNorm, SIMViT has none
        arch=dict(_delete_=True, **_base_.vit_tiny_arch),
        img_size=_base_.vit_tiny_img_size,
        patch_size=_base_.vit_tiny_patch_size,
        stop_grad_conv1=True),  # frozen random patch embedding, as SIM
    # mmselfsup's 3-layer projector and 2-layer predictor, their 4096 hidden
    # units scaled down for a 192-wide encoder
    neck=dict(
        in_channels=_base_.vit_tiny_arch['embed_dims'],
        hid_channels=1024,
        out_channels=256),
    head=dict(
        predictor=dict(in_channels=256, hid_channels=1024, out_channels=256)))
find_unused_parameters = True  # as mmselfsup's MoCo v3 ViT configs (DDP)

# mmselfsup's MoCo v3 ViT views (selfsup/mocov3/
# mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py) at 96 px: the
# asymmetric blur / solarize of BYOL (SIM's colour views), crop scale
# (0.08, 1) of its ViT recipe, flip last.
crop = dict(
    type='RandomResizedCrop',
    size=_base_.vit_tiny_img_size,
    scale=(0.08, 1.),
    backend='pillow')
flip = dict(type='RandomFlip', prob=0.5)
view_pipeline1 = [
    crop, *_base_.view_1_colour,
    dict(type='RandomSolarize', prob=0.), flip
]
view_pipeline2 = [crop, *_base_.view_2_colour, flip]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiView',
        num_views=[1, 1],
        transforms=[view_pipeline1, view_pipeline2]),
    dict(type='PackSelfSupInputs', meta_keys=['img_path'])
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
