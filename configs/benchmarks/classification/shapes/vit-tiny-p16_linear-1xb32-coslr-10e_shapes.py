# Tiny twin of ../imagenet/vit-base-p16_linear-8xb2048-coslr-90e_in1k.py on
# the generated shapes data (python tools/data/generate_shapes.py
# data/shapes): the quick start's ViT (192 wide, 6 layers, 3 heads, patch
# 16, 96 px), 8 classes, batch 32 on CPU, 10 epochs (1 warm-up) of the
# default 2,000 training images = 620 iterations. Same neck, head, optimiser and lr rule.
_base_ = '../imagenet/vit-base-p16_linear-8xb2048-coslr-90e_in1k.py'

img_size = 96
embed_dims = 192
num_classes = 8
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=embed_dims,
            num_layers=6,
            num_heads=3,
            feedforward_channels=768),
        img_size=img_size,
        frozen_stages=6),
    neck=dict(in_channels=embed_dims),
    head=dict(num_classes=num_classes, in_channels=embed_dims))

data_root = 'data/shapes/'
data_preprocessor = dict(num_classes=num_classes)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackClsInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # The default set is 64 px (any size works): short side to 96 px.
    dict(
        type='ResizeEdge',
        scale=img_size,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackClsInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        classes=data_root + 'meta/classes.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        ann_file='meta/val.txt',
        data_prefix=dict(img_path='val/'),
        classes=data_root + 'meta/classes.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

# lr = 0.1 x 32 / 256 = 0.0125 (the recipe's base lr per 256); no AMP on
# CPU.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=0.1 * 32 / 256))
max_epochs = 10
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        eta_min=0.,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=8), checkpoint=dict(interval=5, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, diff_rank_seed=True)
