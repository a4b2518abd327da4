# Tiny twin of ../imagenet/vit-base-p16_linear-8xb2048-coslr-90e_in1k.py on
# the generated shapes data (python tools/data/generate_shapes.py
# data/shapes): the quick start's ViT (192 wide, 6 layers, 3 heads, patch
# 16, 96 px), 8 classes, batch 32 on CPU, 10 epochs (1 warm-up) of the
# default 2,000 training images (_base_/shapes_cls.py). Same neck, head,
# optimiser and lr rule.
# Iterations: 2,000 images / (1 GPU x 32), last batch dropped (as the
# recipe): 62 per epoch, 620 in total.
_base_ = [
    '../imagenet/vit-base-p16_linear-8xb2048-coslr-90e_in1k.py',
    '_base_/shapes_cls.py',
]

img_size = _base_.vit_tiny_img_size
num_classes = _base_.shapes_num_classes
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.vit_tiny_arch),
        img_size=img_size,
        frozen_stages=_base_.vit_tiny_arch['num_layers']),
    neck=dict(in_channels=_base_.vit_tiny_arch['embed_dims']),
    head=dict(
        num_classes=num_classes,
        in_channels=_base_.vit_tiny_arch['embed_dims']))

data_root = _base_.shapes_data_root
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
test_pipeline = _base_.shapes_test_pipeline
train_dataloader = dict(
    **_base_.shapes_loader,
    dataset=dict(
        _delete_=True, **_base_.shapes_train_set, pipeline=train_pipeline))
val_dataloader = _base_.shapes_val_dataloader
test_dataloader = val_dataloader
val_evaluator = test_evaluator = _base_.shapes_evaluator

# lr = 0.1 x 32 / 256 = 0.0125 (the recipe's base lr per 256); no AMP on
# CPU.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=0.1 * 32 / 256))
max_epochs = _base_.shapes_max_epochs
param_scheduler = _base_.shapes_param_scheduler
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = _base_.shapes_default_hooks
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, diff_rank_seed=True)
