# mmselfsup 1.0.0's own MAE (MAE, MAEViT, MAEPretrainDecoder,
# MAEPretrainHead) with the replay benchmark's ViT-Tiny-sized encoder and a
# small decoder, on the shared data, optimiser and schedule of
# _base_/replay_shapes.py. Only sizes differ from mmselfsup's recipe (and
# the optimiser / schedule, shared by all methods).
_base_ = [
    'mmselfsup::selfsup/_base_/models/mae_vit-base-p16.py',
    '_base_/replay_shapes.py',
    '../../../configs/_base_/models/vit-tiny-p16.py',
]

# KNNMonitorHook
custom_imports = dict(imports=['mmsim'], allow_failed_imports=False)

embed_dims = _base_.vit_tiny_arch['embed_dims']
num_patches = (_base_.vit_tiny_img_size // _base_.vit_tiny_patch_size)**2
model = dict(
    backbone=dict(
        # the same encoder as every replay config (SIM's ViT-Tiny);
        # MAEViT keeps its final LayerNorm (mmselfsup's), SIMViT has none
        arch=dict(_delete_=True, **_base_.vit_tiny_arch),
        img_size=_base_.vit_tiny_img_size,
        patch_size=_base_.vit_tiny_patch_size,
        mask_ratio=0.75),  # 9 of the 36 patches visible
    neck=dict(
        num_patches=num_patches,
        patch_size=_base_.vit_tiny_patch_size,
        embed_dim=embed_dims,  # = the encoder width
        # a small decoder: 128 wide, 2 blocks, 4 heads of 32 (mmselfsup's
        # ViT-B one is 512 wide, 8 blocks, 16 heads)
        decoder_embed_dim=128,
        decoder_depth=2,
        decoder_num_heads=4,
        mlp_ratio=4.),
    head=dict(patch_size=_base_.vit_tiny_patch_size, norm_pix=True))

# mmselfsup's MAE pipeline (selfsup/_base_/datasets/imagenet_mae.py) at
# 96 px.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        size=_base_.vit_tiny_img_size,
        scale=(0.2, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSelfSupInputs', meta_keys=['img_path'])
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
