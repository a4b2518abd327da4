# COCO instance segmentation with ViTDet's large-scale jitter (LSJ) at 1024:
# resize by a random factor in [0.1, 2.0] of the 1024 canvas, crop (or pad,
# in the model's data preprocessor) to 1024 x 1024, flip.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

lsj_size = (1024, 1024)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomResize',
        scale=lsj_size,
        ratio_range=(0.1, 2.0),
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_type='absolute_range',
        crop_size=lsj_size,
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=lsj_size, keep_ratio=True),
    # Pad to the training canvas, as detectron2's (square_pad=1024) and
    # mmdet's ViTDet do: otherwise a 1024 x 683 image gives a 64 x 44 token
    # grid and the position embedding and the global blocks' relative
    # position tables are resized to a grid never seen in training. The
    # value is the mean colour (BGR), 0 after normalisation, as the
    # training pad (BatchFixedSizePad) leaves it.
    dict(type='Pad', size=lsj_size, pad_val=dict(img=(104, 116, 124))),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]

train_dataloader = dict(
    batch_size=8, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
