# SIM's ImageNet-1k pre-training data for mmpretrain 1.2: the twin of
# ../../../sim/_base_/imagenet_sim.py (two 224 px views, crop scale
# (0.08, 1), the host-free loader and 118 / 196 mask of
# ../../../sim/_base_/imagenet_sim_loader.py) with mmpretrain's ImageNet
# and pipeline pieces (sim_pipeline.py here).
_base_ = [
    'sim_pipeline.py',
    '../../../sim/_base_/imagenet_sim_loader.py',
]

dataset_type = 'ImageNet'
train_pipeline = [
    _base_.load_image,
    dict(
        type='SIMTwoViewCrop',
        size=224,
        scale=(0.08, 1.0),  # release ViT-B recipe; the paper's default 0.2
        view_pipelines=_base_.view_colour_pipelines),
    _base_.mask_generator,
    _base_.pack_inputs,
]
train_dataloader = dict(
    dataset=dict(type=dataset_type, pipeline=train_pipeline))
