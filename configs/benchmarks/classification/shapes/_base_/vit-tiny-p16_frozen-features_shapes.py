# Frozen features of the shapes data from the quick start's ViT (192 wide,
# 6 layers, 3 heads, patch 16, 96 px), read as the fine-tune and linear
# configs read their validation images (shapes_cls.py); twin of
# ../../imagenet/_base_/vit-base-p16_frozen-features_in1k.py.
_base_ = [
    '../../imagenet/_base_/vit-base-p16_frozen-features_in1k.py',
    'shapes_cls.py',
]

img_size = _base_.vit_tiny_img_size
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.vit_tiny_arch), img_size=img_size))

data_root = _base_.shapes_data_root
extract_pipeline = _base_.shapes_test_pipeline
train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(
        _delete_=True, **_base_.shapes_train_set, pipeline=extract_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(_delete_=True, **_base_.shapes_val_set))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
