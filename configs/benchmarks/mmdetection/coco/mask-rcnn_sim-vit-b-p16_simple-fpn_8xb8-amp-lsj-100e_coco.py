# SIM ViT-B/16 transferred to COCO with Mask R-CNN, ViTDet recipe (the
# paper's setting: 52.1 box AP / 46.2 mask AP after 1600 pre-training
# epochs). 8 GPUs x 8 images, 184375 iterations (100 epochs).
_base_ = [
    './_base_/models/mask-rcnn_sim-vit-b-p16_simple-fpn.py',
    './_base_/datasets/coco-instance_lsj-1024.py',
    './_base_/schedules/lsj-100e_adamw-layer-decay.py'
]
