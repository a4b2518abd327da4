# SIM end-to-end fine-tuning on ImageNet-1k (spec section 5), as
# mmselfsup's MAE fine-tune config: global average of the patch tokens
# then LayerNorm (`fc_norm`: mmcls's avg_token LN, ``ln2``), drop path 0.1,
# RandAugment, mixup 0.8, cutmix 1.0, random erasing 0.25 (the mmcls base
# pipeline), label smoothing 0.1, AdamW with layer decay 0.65, 100 epochs
# with 5 warm-up, batch 1024 (8 GPUs x 128).
# Run with `mim train mmcls <this config> --launcher pytorch --gpus 8`;
# point model.backbone.init_cfg.checkpoint at a SIM checkpoint (README).
_base_ = [
    'mmcls::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmcls::_base_/default_runtime.py',
    '_base_/fine-tune_adamw-coslr-100e_in1k_schedule.py',
]
custom_imports = dict(imports=['mmsim'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        final_norm=False,
        avg_token=True,  # mean of patch tokens -> LayerNorm (fc_norm)
        output_cls_token=False,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5)),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader

# lr = base lr x total batch / 256 = 2.5e-4 x 1024 / 256 = 1e-3.
# Layer decay 0.65 (mmselfsup's rule): block i = 1..12 gets lr x 0.65 **
# (13 - i), patch embedding and tokens lr x 0.65 ** 13, fc_norm and head lr.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW',
        lr=2.5e-4 * 1024 / 256,
        weight_decay=0.05,
        eps=1e-8,
        betas=(0.9, 0.999),
        model_type='vit',
        layer_decay_rate=0.65),
    constructor='mmselfsup.LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        custom_keys={
            '.ln': dict(decay_mult=0.),
            '.bias': dict(decay_mult=0.),
            '.cls_token': dict(decay_mult=0.),
            '.pos_embed': dict(decay_mult=0.)
        }))
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3))
randomness = dict(seed=0, diff_rank_seed=True)
