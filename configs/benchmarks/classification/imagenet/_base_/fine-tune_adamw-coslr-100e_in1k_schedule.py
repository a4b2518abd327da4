# The end-to-end fine-tune's schedule, host-free (the mmcls config in ../
# and mmpretrain's twin in ../../../../mmpretrain/sim/benchmarks/ inherit
# it): 5 warm-up epochs then cosine to 1e-6, 100 epochs, validation every
# epoch; the reference batch of --auto-scale-lr. The optimiser (AdamW with
# layer decay 0.65) is in each host's config: the layer-decay constructor's
# arguments differ between the hosts.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=95,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=100,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
