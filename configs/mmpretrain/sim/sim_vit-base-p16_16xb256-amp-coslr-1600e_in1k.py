# SIM ViT-B/16 for mmpretrain 1.2, the authors' release recipe: the same
# run as ../../sim/sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py (1600
# epochs on ImageNet-1k, batch 4096 (16 x 256), mask 118/196, crop scale
# (0.08, 1), m_0 = 0.995, projector depth 2, predictor depth 4, width 768,
# dense UniGrad only), on mmpretrain's runtime, dataset and pipeline pieces
# (_base_/imagenet_sim.py); the model and the optimiser are the same files.
# tests/test_hosts/test_mmpretrain_configs.py checks that the two agree
# but for the host's class names.
# Iterations: 1,281,167 images / (16 GPUs x 256), last batch dropped (as
# the release): 312 per epoch, 499,200 in total (the same on 32 x 128).
# Run: mim train mmpretrain THIS_FILE --launcher pytorch --gpus 8 (per
# node; mmpretrain's tools/train.py honours runner_type, so SIMRunner's
# data-loader checks run too).
_base_ = [
    '../../sim/_base_/sim_vit-base-p16.py',
    '_base_/imagenet_sim.py',
    '../../sim/_base_/adamw_coslr-1600e_in1k.py',
    'mmpretrain::_base_/default_runtime.py',
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=50, max_keep_ckpts=3),
    # accumulation vs target_update_interval before training (also under
    # DDP); the loss and mask checks the step keeps on the device, read
    # every logging interval
    training_checks=dict(type='TrainingChecksHook'),
    # SIGTERM / SIGUSR1 (a cluster's preemption notice): save this
    # iteration's whole state, exit 128 + signal; --resume continues there
    preemption=dict(type='PreemptionHook'))
# mmselfsup's runtime logs these means over the whole run as well.
log_processor = dict(
    window_size=10,
    custom_cfg=[dict(data_src='', method='mean', window_size='global')])
randomness = dict(seed=0, diff_rank_seed=True)
find_unused_parameters = False
runner_type = 'SIMRunner'
