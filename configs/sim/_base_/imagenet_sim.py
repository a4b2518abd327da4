# Two views with their geometry, and a block-wise mask on view 1 (spec §1).
# Colour: mmselfsup's ColorJitter / RandomGrayscale (torchvision semantics);
# mmselfsup's RandomGaussianBlur (cv2) and RandomSolarize stand in for the
# release's PIL GaussianBlur / ImageOps.solarize.
dataset_type = 'mmcls.ImageNet'
data_root = 'data/imagenet/'

color_jitter = dict(
    type='RandomApply',
    transforms=[
        dict(
            type='ColorJitter',
            brightness=0.4,
            contrast=0.4,
            saturation=0.2,
            hue=0.1)
    ],
    prob=0.8)
grayscale = dict(
    type='RandomGrayscale',
    prob=0.2,
    keep_channels=True,
    channel_weights=(0.114, 0.587, 0.2989))  # BGR order
view_1_colour = [
    color_jitter, grayscale,
    dict(type='RandomGaussianBlur', sigma_min=0.1, sigma_max=2.0, prob=1.0)
]
view_2_colour = [
    color_jitter, grayscale,
    dict(type='RandomGaussianBlur', sigma_min=0.1, sigma_max=2.0, prob=0.1),
    dict(type='RandomSolarize', threshold=128, prob=0.2)
]

view_colour_pipelines = [view_1_colour, view_2_colour]
# Pillow decoding as the release; names the file when it is truncated.
load_image = dict(type='SIMLoadImageFromFile', imdecode_backend='pillow')
mask_generator = dict(
    type='SIMBlockMaskGenerator',
    input_size=14,
    num_masking_patches=118)  # of 196; 75 is the release code default
pack_inputs = dict(
    type='PackSelfSupInputs',
    algorithm_keys=['mask'],
    pseudo_label_keys=['rel_pos'],
    meta_keys=['img_path'])
train_pipeline = [
    load_image,
    dict(
        type='SIMTwoViewCrop',
        size=224,
        scale=(0.08, 1.0),  # release ViT-B recipe; the paper's default 0.2
        view_pipelines=view_colour_pipelines),
    mask_generator,
    pack_inputs,
]

train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        pipeline=train_pipeline))
