# SIM linear probe on ImageNet-1k (spec section 5): frozen ViT-B/16, the
# global average of its patch tokens -> LayerNorm frozen at 1 / 0 ->
# BatchNorm without affine -> Linear (init std 0.01); LARS, 90 epochs with
# 10 warm-up, batch 16384 (8 GPUs x 2048), no weight decay.
# Run with `mim train mmcls <this config> --launcher pytorch --gpus 8`;
# point model.backbone.init_cfg.checkpoint at a SIM checkpoint (README).
_base_ = [
    'mmcls::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmcls::_base_/default_runtime.py',
    '_base_/linear-probe_lars-coslr-90e_in1k_schedule.py',
]
custom_imports = dict(imports=['mmsim'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        final_norm=False,  # SIM pre-trains without a final LayerNorm
        avg_token=False,  # its pooling LN (ln2) would be learnable
        output_cls_token=False,  # -> (B, C, H, W) patch tokens
        frozen_stages=12,  # everything: patch embed, tokens, 12 blocks
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='mmselfsup.LinearProbeNeck', in_channels=768),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=0.01)))

# MAE's linear-probe augmentation: crop + flip only.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackClsInputs'),
]
train_dataloader = dict(
    batch_size=2048, drop_last=True, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=256)
test_dataloader = val_dataloader

# lr = base lr x total batch / 256 = 0.1 x 16384 / 256 = 6.4.
# LARS (mmselfsup's) without weight decay; biases skip the trust ratio, as
# in MAE's LARS. Only the head trains (the backbone is frozen, the neck has
# no parameters).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    # leaves the frozen backbone out without a warning per tensor
    constructor='mmselfsup.SkipFrozenOptimWrapperConstructor',
    optimizer=dict(
        type='mmselfsup.LARS',
        lr=0.1 * 16384 / 256,
        weight_decay=0.,
        momentum=0.9),
    paramwise_cfg=dict(custom_keys={'.bias': dict(lars_exclude=True)}))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=10, max_keep_ckpts=2))
randomness = dict(seed=0, diff_rank_seed=True)
