# The 100-epoch recipe shortened to 25 epochs (a quicker check of a
# pre-trained backbone; lower AP than the paper's 100-epoch numbers).
_base_ = './mask-rcnn_sim-vit-b-p16_simple-fpn_8xb8-amp-lsj-100e_coco.py'

# 25 epochs = 46094 iterations x 64 images / 118000 images per epoch;
# lr steps at the same fractions as the 100-epoch schedule (88.9%, 96.3%).
max_iters = 46094
milestones = [40972, 44386]
val_interval = 5000

train_cfg = dict(
    max_iters=max_iters,
    val_interval=val_interval,
    dynamic_intervals=[(max_iters // val_interval * val_interval + 1,
                        max_iters)])
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
