# Two views with their geometry, and a block-wise mask on view 1 (spec
# section 1), on ImageNet-1k: 224 px views, 118 of 196 patches masked. The
# colour augmentation, decoding and packing: sim_pipeline.py; the loader
# and the mask (host-free, mmpretrain's twin inherits them too):
# imagenet_sim_loader.py.
_base_ = [
    'sim_pipeline.py',
    'imagenet_sim_loader.py',
]

dataset_type = 'mmcls.ImageNet'
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
