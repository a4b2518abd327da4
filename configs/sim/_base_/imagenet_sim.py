# Two views with their geometry, and a block-wise mask on view 1 (spec
# section 1), on ImageNet-1k: 224 px views, 118 of 196 patches masked. The
# colour augmentation, decoding and packing: sim_pipeline.py.
_base_ = 'sim_pipeline.py'

dataset_type = 'mmcls.ImageNet'
data_root = 'data/imagenet/'

mask_generator = dict(
    type='SIMBlockMaskGenerator', input_size=14,
    num_masking_patches=118)  # of 196; 75 is the release code default
train_pipeline = [
    _base_.load_image,
    dict(
        type='SIMTwoViewCrop',
        size=224,
        scale=(0.08, 1.0),  # release ViT-B recipe; the paper's default 0.2
        view_pipelines=_base_.view_colour_pipelines),
    mask_generator,
    _base_.pack_inputs,
]

train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    # every batch full, as the release (MAE's main_pretrain.py)
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        pipeline=train_pipeline))
