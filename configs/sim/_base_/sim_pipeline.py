# The parts of SIM's pre-training pipeline that do not depend on the image
# size (spec section 1): decoding, the two views' colour augmentation and
# the packing. Colour: mmselfsup's ColorJitter (as SIMColorJitter, which
# only silences mmcv's per-process pillow-backend warning) / RandomGrayscale
# (torchvision semantics); mmselfsup's RandomGaussianBlur (cv2) and
# RandomSolarize stand in for the release's PIL GaussianBlur /
# ImageOps.solarize. View 1: jitter p 0.8, grey p 0.2, blur p 1.0; view 2:
# jitter p 0.8, grey p 0.2, blur p 0.1, solarize p 0.2 (BYOL's and
# MoCo v3's asymmetric pair, which the replay benchmark's MoCo v3 reuses).
# No dataloader here, so any config can inherit it beside its own data.
color_jitter = dict(
    type='RandomApply',
    transforms=[
        dict(
            type='SIMColorJitter',
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
pack_inputs = dict(
    type='PackSelfSupInputs',
    algorithm_keys=['mask'],
    pseudo_label_keys=['rel_pos'],
    meta_keys=['img_path'])
