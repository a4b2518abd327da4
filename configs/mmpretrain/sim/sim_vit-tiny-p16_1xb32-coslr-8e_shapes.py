# The quick start for mmpretrain 1.2: the same run as
# ../../sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py (see its notes: the
# tiny SIM, batch 32, 8 epochs, lr 2.5e-4, the kNN monitor and dense probe
# every 4 epochs), on mmpretrain's runtime, dataset and pipeline pieces
# (_base_/sim_pipeline.py). tests/test_hosts/test_across_hosts.py checks
# that the two agree everywhere else.
# Run: mim train mmpretrain THIS_FILE (mmpretrain's tools/train.py honours
# runner_type, so SIMRunner's data-loader checks run too).
# Generate the data first: python tools/data/generate_shapes.py data/shapes
_base_ = [
    '_base_/sim_vit-tiny-p16.py',
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/datasets/shapes_knn_monitor.py',
    '../../_base_/schedules/sim_adamw-coslr-8e_shapes.py',
]

img_size = _base_.vit_tiny_img_size
data_root = 'data/shapes/'
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    pin_memory=False,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        classes=data_root + 'meta/classes.txt',
        pipeline=_base_.train_pipeline))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=8),
    checkpoint=dict(type='AtomicCheckpointHook', interval=4, max_keep_ckpts=2),
    training_checks=dict(type='TrainingChecksHook'),
    # SIGTERM / SIGUSR1 (a cluster's preemption notice): save this
    # iteration's whole state, exit 128 + signal; --resume continues there
    preemption=dict(type='PreemptionHook'))
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
# mmselfsup's runtime logs these means over the whole run as well.
log_processor = dict(
    window_size=10,
    custom_cfg=[dict(data_src='', method='mean', window_size='global')])
visualizer = dict(vis_backends=[
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
])
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, diff_rank_seed=True)
runner_type = 'SIMRunner'
