# SIM ViT-B/16 transferred to ADE20k with UperNet at 512 x 512, the MAE
# protocol (the paper's setting: 51.1 mIoU after 1600 pre-training epochs;
# MAE 48.1, MoCo v3 47.3). 8 GPUs x 2 images (mmseg MAE), 160,000
# iterations: 126.7 epochs = 160000 iterations x 16 images / 20210 images
# per epoch. The data pipeline is mmseg's ADE20k one (random resize of
# 2048 x 512 by 0.5-2.0, 512 crop, flip, photometric distortion; tests at
# 2048 x 512 single scale).
_base_ = [
    './_base_/models/upernet_sim-vit-b-p16.py',
    'mmseg::_base_/datasets/ade20k.py',
    './_base_/schedules/adamw-layer-decay-160k.py'
]

train_dataloader = dict(batch_size=2)  # per GPU (mmseg MAE)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
