# SIM as the authors release it (dense UniGrad term only, alpha_1 = 0,
# alpha_2 = 1) at the replay benchmark's ViT-Tiny size: the model and
# pipeline of configs/sim/_base_/sim_vit-tiny-p16.py, which the quick
# start (configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py) also
# inherits, with the shared data, optimiser and schedule of
# _base_/replay_shapes.py.
_base_ = [
    '../../../configs/sim/_base_/sim_vit-tiny-p16.py',
    '_base_/replay_shapes.py',
]

train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
