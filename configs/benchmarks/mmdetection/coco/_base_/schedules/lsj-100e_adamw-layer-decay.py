# ViTDet's Mask R-CNN schedule: AdamW, layer-wise lr decay 0.7, 100 epochs
# of COCO train2017 counted in iterations at batch 64, lr x 0.1 at epochs
# ~88.9 and ~96.3, 250 warm-up iterations, mixed precision. Builds on
# mmdet's default runtime (its hooks and log processor are iteration-based
# here).
_base_ = 'mmdet::_base_/default_runtime.py'
# Each rank its own augmentation and drop-path draws (mmdet sets none).
randomness = dict(seed=None, diff_rank_seed=True)

# 100 epochs = 184375 iterations x 64 images / 118000 images per epoch
max_iters = 184375
# 88.9 epochs = 163889 x 64 / 118000 and 96.3 epochs = 177546 x 64 / 118000
milestones = [163889, 177546]
val_interval = 5000

train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=val_interval,
    dynamic_intervals=[(max_iters // val_interval * val_interval + 1,
                        max_iters)])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='AmpOptimWrapper',  # fp16 autocast (GPU); use OptimWrapper on CPU
    constructor='SIMViTLayerDecayOptimizerConstructor',
    # lr x 0.7 ** (13 - depth); no weight decay on the backbone's norms and
    # position embedding only (detectron2's and mmdet's ViTDet)
    paramwise_cfg=dict(decay_rate=0.7),
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1))

param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=250),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=milestones,
        gamma=0.1)
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=val_interval,
        save_last=True,
        max_keep_ckpts=3))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)

# The recipe's batch: 8 GPUs x 8 images. mmdet rescales lr linearly from
# this base when training runs with --auto-scale-lr on another batch.
auto_scale_lr = dict(enable=False, base_batch_size=64)
