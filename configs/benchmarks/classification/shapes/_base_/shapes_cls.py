# What the tiny fine-tune and linear-probe configs share: the quick start's
# ViT (../../../../_base_/models/vit-tiny-p16.py) and the generated shapes
# classification data (python tools/data/generate_shapes.py data/shapes;
# 8 classes, 64 px images read at 96 px), batch 32 on one CPU process, 10
# epochs. Held in variables (shapes_*), so that a config inherits them
# beside its ImageNet twin, whose dataloaders they replace.
_base_ = '../../../../_base_/models/vit-tiny-p16.py'

shapes_data_root = 'data/shapes/'
shapes_num_classes = 8
shapes_test_pipeline = [
    dict(type='LoadImageFromFile'),
    # The default set is 64 px (any size works): short side to 96 px.
    dict(
        type='ResizeEdge',
        scale=_base_.vit_tiny_img_size,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=_base_.vit_tiny_img_size),
    dict(type='PackClsInputs'),
]
shapes_loader = dict(batch_size=32, num_workers=1, persistent_workers=False)
shapes_train_set = dict(
    type='CustomDataset',
    data_root=shapes_data_root,
    ann_file='meta/train.txt',
    data_prefix=dict(img_path='train/'),
    classes=shapes_data_root + 'meta/classes.txt')
shapes_val_set = dict(
    shapes_train_set,
    ann_file='meta/val.txt',
    data_prefix=dict(img_path='val/'),
    pipeline=shapes_test_pipeline)
# `_delete_`: replaces the ImageNet twin's dataset (all of its keys)
shapes_val_dataloader = dict(
    **shapes_loader, dataset=dict(_delete_=True, **shapes_val_set))
shapes_evaluator = dict(type='Accuracy', topk=(1, ))
shapes_max_epochs = 10
# 1 warm-up epoch, then cosine over the other 9.
shapes_param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=shapes_max_epochs - 1,
        eta_min=0.,
        by_epoch=True,
        begin=1,
        end=shapes_max_epochs,
        convert_to_iter_based=True)
]
shapes_default_hooks = dict(
    logger=dict(interval=8),
    checkpoint=dict(type='AtomicCheckpointHook', interval=5, max_keep_ckpts=1))
