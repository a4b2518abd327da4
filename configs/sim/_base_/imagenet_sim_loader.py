# SIM's ImageNet-1k pre-training data, host-free (both hosts'
# imagenet_sim.py, ./ and ../../mmpretrain/sim/_base_/, inherit it): where
# the images are, the loader, and the block-wise mask on view 1 (spec
# section 1): 118 of the 196 patches of a 224 px view. Each host's
# imagenet_sim.py adds its dataset type and its pipeline.
data_root = 'data/imagenet/'

mask_generator = dict(
    type='SIMBlockMaskGenerator', input_size=14,
    num_masking_patches=118)  # of 196; 75 is the release code default

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
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/')))
