# The quick start: SIM on the generated shapes dataset, on CPU, in minutes.
# The tiny SIM of _base_/sim_vit-tiny-p16.py (a 6-layer, 192-wide ViT with
# patch 16 on 96 px views: a 6 x 6 grid, 22 of 36 patches masked, ~ the
# release's 118 / 196; its linears start truncated normal, see there),
# batch 32, 8 epochs of the default 2,000-image set. Same method as the
# ImageNet recipe; only sizes, schedule, learning rate and the linears'
# init are scaled down. (8 epochs, not 10: the quick start's main job has
# 12 minutes on 2 cores; a 10-epoch run from this init gained 0.5 kNN
# point after epoch 8, docs/benchmarks/dense_transfer_log.md.)
# Iterations: 2,000 images / (1 GPU x 32), last batch dropped: 62 per
# epoch, 496 in total.
# Generate the data first: python tools/data/generate_shapes.py data/shapes
_base_ = [
    '_base_/sim_vit-tiny-p16.py',
    'mmselfsup::selfsup/_base_/default_runtime.py',
    '../_base_/datasets/shapes_knn_monitor.py',
    '../_base_/schedules/sim_adamw-coslr-8e_shapes.py',
]

img_size = _base_.vit_tiny_img_size
data_root = 'data/shapes/'
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    pin_memory=False,
    drop_last=True,  # equal batches: equal K * B rows for UniGrad
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='mmcls.CustomDataset',
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        classes=data_root + 'meta/classes.txt',
        pipeline=_base_.train_pipeline))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=8),
    checkpoint=dict(type='AtomicCheckpointHook', interval=4, max_keep_ckpts=2),
    # accumulation vs target_update_interval; the loss and mask checks the
    # step keeps on the device, read every logging interval
    training_checks=dict(type='TrainingChecksHook'),
    # SIGTERM / SIGUSR1 (a cluster's preemption notice): save this
    # iteration's whole state, exit 128 + signal; --resume continues there
    preemption=dict(type='PreemptionHook'))
# Online kNN monitor (mmsim's KNNMonitorHook): every 4 epochs (and before
# the first), kNN top-1 of the frozen encoder's pooled patch tokens, val
# split against the labelled train split; logged as `knn/top1`. With it the
# dense probe: a linear classifier on every patch token of the generated
# detection images (128 px, an 8 x 8 grid), fitted on 400 and scored on
# 200 by the mIoU of the patch labels (8 shapes + background), logged as
# `dense/mIoU`. The splits: ../_base_/datasets/shapes_knn_monitor.py.
custom_hooks = [
    dict(
        type='KNNMonitorHook',
        train_dataloader=_base_.knn_train_dataloader,
        val_dataloader=_base_.knn_val_dataloader,
        interval=4,
        dense_probe=dict(
            data_root=data_root + 'det/',
            num_classes=9,
            max_train_images=400,
            max_val_images=200))
]
# Scalars (loss, lr, knn/top1, dense/mIoU, ...) to vis_data/scalars.json and
# to TensorBoard event files under the run's work dir: docs/monitoring.md.
visualizer = dict(vis_backends=[
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
])
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, diff_rank_seed=True)  # own crops/masks per rank
