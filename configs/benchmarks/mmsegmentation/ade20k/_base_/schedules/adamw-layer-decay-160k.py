# The MAE/BEiT segmentation schedule: AdamW with layer-wise lr decay, a
# linear warm-up then poly decay to 0, mixed precision, 160,000 iterations
# (mmseg 1.2.2's configs/mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py,
# "mmseg MAE", for every value). Builds on mmseg's 160k schedule (its loop,
# validation and checkpoint every 16k iters) and default runtime.
_base_ = [
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py'
]

# mmsim registers AtomicCheckpointHook (in mmengine's root registry, found
# from mmseg's scope); nothing else of mmsim is used here.
custom_imports = dict(imports=['mmsim'], allow_failed_imports=False)
# Each rank its own augmentation and drop-path draws (mmseg sets none).
randomness = dict(seed=None, diff_rank_seed=True)

optim_wrapper = dict(
    _delete_=True,  # the base's SGD
    # fp16 autocast with a dynamic loss scale: mmseg MAE asks for it with
    # the 0.x key fp16=dict(loss_scale='dynamic'), which mmseg 1.x ignores;
    # here it is the wrapper (use OptimWrapper on a machine without CUDA)
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999),
        weight_decay=0.05),  # mmseg MAE
    # lr x 0.65 ** (13 - depth): heads and neck 1, block i (0-based)
    # 0.65 ** (12 - i), patch / position embedding and cls token 0.65 ** 13
    # (mmseg MAE; BEiT's constructor, mmseg's port)
    constructor='LayerDecayOptimizerConstructor',
    paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.65))

param_scheduler = [
    # linear warm-up over the first 1500 iters from lr x 1e-6 (mmseg MAE)
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    # then poly, power 1 (linear) to 0 at the end (mmseg MAE)
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=1500,
        end=160000,
        by_epoch=False)
]

default_hooks = dict(
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=16000,
        save_last=True,
        max_keep_ckpts=3))
