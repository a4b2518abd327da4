# The kNN monitor's labelled splits of a generated shapes set, for
# mmpretrain 1.2 (the same splits and sizes as
# ../../../_base_/datasets/shapes_knn_monitor.py, with mmpretrain's
# CustomDataset, ResizeEdge and PackInputs).
_base_ = ['../../../_base_/datasets/shapes_knn_monitor.py']

knn_pipeline = [
    dict(type='SIMLoadImageFromFile'),
    dict(type='ResizeEdge', scale=96, edge='short'),
    dict(type='CenterCrop', crop_size=96),
    dict(type='PackInputs'),
]
knn_train_dataloader = dict(
    dataset=dict(type='CustomDataset', pipeline=knn_pipeline))
knn_val_dataloader = dict(
    dataset=dict(type='CustomDataset', pipeline=knn_pipeline))
