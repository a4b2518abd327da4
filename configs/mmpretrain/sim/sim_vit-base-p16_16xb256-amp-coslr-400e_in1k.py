# The 400-epoch twin of the release recipe (the paper reports both), for
# mmpretrain 1.2: ../../sim/sim_vit-base-p16_16xb256-amp-coslr-400e_in1k.py.
# Iterations: 1,281,167 images / (16 GPUs x 256), last batch dropped: 312
# per epoch, 124,800 in total.
_base_ = 'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py'

max_epochs = 400
warmup_epochs = 40
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=0.,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
