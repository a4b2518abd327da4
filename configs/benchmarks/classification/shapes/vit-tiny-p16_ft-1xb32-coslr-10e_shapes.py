# Tiny twin of ../imagenet/vit-base-p16_ft-8xb128-coslr-100e_in1k.py on the
# generated shapes data: the quick start's ViT (192 wide, 6 layers, 3
# heads, patch 16, 96 px), 8 classes, batch 32 on CPU, 10 epochs (1
# warm-up) of the default 2,000 training images (_base_/shapes_cls.py).
# Same augmentation (RandAugment, erasing, mixup, cutmix), label
# smoothing, fc_norm pooling, layer decay and lr rule.
# Iterations: 2,000 images / (1 GPU x 32), last batch kept: 63 per epoch,
# 630 in total.
_base_ = [
    '../imagenet/vit-base-p16_ft-8xb128-coslr-100e_in1k.py',
    '_base_/shapes_cls.py',
]

img_size = _base_.vit_tiny_img_size
num_classes = _base_.shapes_num_classes
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.vit_tiny_arch), img_size=img_size),
    head=dict(
        num_classes=num_classes,
        in_channels=_base_.vit_tiny_arch['embed_dims']))

data_root = _base_.shapes_data_root
data_preprocessor = dict(num_classes=num_classes)
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
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

# lr = 2.5e-4 x 32 / 256 (the recipe's base lr per 256); no AMP on CPU.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=2.5e-4 * 32 / 256))
max_epochs = _base_.shapes_max_epochs
param_scheduler = [
    _base_.shapes_param_scheduler[0],
    dict(_base_.shapes_param_scheduler[1], eta_min=1e-6),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = _base_.shapes_default_hooks
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, diff_rank_seed=True)
