# The labelled splits the kNN monitor (mmsim's KNNMonitorHook) reads from a
# generated shapes set (python tools/data/generate_shapes.py data/shapes):
# the train split is the neighbours, the val split the queries, both
# resized (short side) and centre-cropped to 96 px (vit_tiny_img_size of
# ../models/vit-tiny-p16.py, which a sibling base of this one brings: bases
# may not repeat a key), in order, by mmcls's CustomDataset and
# PackClsInputs. Written only here; a config inherits this file and passes
#   train_dataloader=_base_.knn_train_dataloader,
#   val_dataloader=_base_.knn_val_dataloader
# to the hook. For another data root or pipeline, override in both loaders
#   knn_train_dataloader = dict(dataset=dict(data_root=..., pipeline=...))
#   knn_val_dataloader = dict(dataset=dict(data_root=..., pipeline=...))
# The loader is mmsim's SIMLoadImageFromFile with mmcv's default decoder
# (cv2, the same pixels as mmcv's LoadImageFromFile), so a broken image
# stops the monitor with an error naming the file and what to do.
knn_pipeline = [
    dict(type='SIMLoadImageFromFile'),
    dict(type='mmcls.ResizeEdge', scale=96, edge='short'),
    dict(type='CenterCrop', crop_size=96),
    dict(type='mmcls.PackClsInputs'),
]
knn_train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmcls.CustomDataset',
        data_root='data/shapes/',
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        pipeline=knn_pipeline))
knn_val_dataloader = dict(
    knn_train_dataloader,
    dataset=dict(
        knn_train_dataloader['dataset'],
        ann_file='meta/val.txt',
        data_prefix=dict(img_path='val/')))
