# Shared settings of the replay benchmark: every method pre-trains the same
# ViT-Tiny-sized encoder on the generated shapes data with the same image
# size, epochs, batch, optimiser and schedule; only the method (model and
# its own training pipeline) differs. Each method config adds `model` and
# `train_dataloader.dataset.pipeline`.
#
# To point a config at another data root or epoch count, override (all of
# them; list indices as in --cfg-options):
#   train_dataloader.dataset.data_root
#   custom_hooks.0.train_dataloader.dataset.data_root
#   custom_hooks.0.val_dataloader.dataset.data_root
#   train_cfg.max_epochs
#   param_scheduler.1.T_max (= max_epochs - 1)
#   param_scheduler.1.end (= max_epochs)
#   default_hooks.checkpoint.interval (= max_epochs; optional: the hook
#     always saves after the last epoch and keeps only 1 checkpoint)
# With max_epochs = 1 leave param_scheduler alone (the cosine part, begin 1,
# then never starts; T_max = 0 is not valid).
_base_ = [
    'mmselfsup::selfsup/_base_/default_runtime.py',
    '../../../../configs/_base_/datasets/shapes_knn_monitor.py',
]

# Not set here: `custom_imports = dict(imports=['mmsim'])` (KNNMonitorHook
# lives in mmsim). Each method config gets it, the SIM ones from
# configs/sim/_base_/sim_vit-base-p16.py (a sibling base may not repeat it).

data_root = 'data/replay_shapes/'
# The generated images are 64 px; every pipeline resize-crops to 96 px, a
# 6 x 6 grid of 16 px patches.
img_size = 96
patch_size = 16
max_epochs = 8

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    pin_memory=False,
    drop_last=True,  # equal batches for every method (SIM's UniGrad rows)
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='mmcls.CustomDataset',
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        pipeline=[]))  # the method's own, set by each config

# AdamW for every method (also MoCo v3, whose recipe uses AdamW too), no
# AMP (CPU), no weight decay on biases, norms and other 1-D parameters.
# lr 2.5e-4: at the quick start's 1e-3 the kNN curves of SIM and MoCo v3
# peaked in the warm-up epoch, then fell back (docs/benchmarks/replay);
# the recipes' base lr 1.5e-4 per 256, scaled linearly to batch 32, would
# be 1.9e-5 (not tried: 744 steps is a short run).
optim_wrapper = dict(
    type='OptimWrapper',
    # leaves frozen momentum targets out without a warning per tensor
    constructor='SkipFrozenOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=2.5e-4, betas=(0.9, 0.95), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(
        bias_decay_mult=0., norm_decay_mult=0., flat_decay_mult=0.))
# 1 warm-up epoch, then cosine to 0 over the remaining max_epochs - 1.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
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
# No `type` here on purpose: mmselfsup 1.0.0 declares a registry location
# (mmselfsup.engine.runner) that does not exist, and mmengine >= 0.7 fails
# importing it whenever a loop is looked up by name; without `type` the
# runner builds mmengine's EpochBasedTrainLoop directly (by_epoch=True).
# No val / test loops: the kNN monitor below evaluates.
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    # one checkpoint, after the last epoch
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=max_epochs, max_keep_ckpts=1),
    # SIM's accumulation check and its deferred loss / mask checks (a
    # no-op for MAE and MoCo v3, which have none)
    training_checks=dict(type='TrainingChecksHook'))

# Online kNN top-1 of the frozen online backbone's pooled patch tokens after
# every epoch (and before the first), on the splits of
# configs/_base_/datasets/shapes_knn_monitor.py from this data root, their
# deterministic 96 px centre crops read as the offline frozen-feature
# benchmarks read them (pillow, bicubic); decoded by mmcv's default (cv2),
# through mmsim's loader, whose errors name a broken file.
knn_pipeline = [
    dict(type='SIMLoadImageFromFile'),
    dict(
        type='mmcls.ResizeEdge',
        scale=img_size,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='mmcls.PackClsInputs'),
]
knn_data = dict(data_root=data_root, pipeline=knn_pipeline)
custom_hooks = [
    dict(
        type='KNNMonitorHook',
        train_dataloader=dict(
            _base_.knn_train_dataloader,
            dataset=dict(_base_.knn_train_dataloader.dataset, **knn_data)),
        val_dataloader=dict(
            _base_.knn_val_dataloader,
            dataset=dict(_base_.knn_val_dataloader.dataset, **knn_data)),
        interval=1)
]

env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, diff_rank_seed=True)
