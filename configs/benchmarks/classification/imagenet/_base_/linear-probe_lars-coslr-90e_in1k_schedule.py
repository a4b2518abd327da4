# The linear probe's schedule, host-free (the mmcls config in ../ and
# mmpretrain's twin in ../../../../mmpretrain/sim/benchmarks/ inherit it):
# 10 warm-up epochs then cosine to 0, 90 epochs, validation every 10; the
# reference batch of --auto-scale-lr. The optimiser (LARS, lr 6.4) is in
# each host's config: its type and constructor are the host's.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=80,
        eta_min=0.,
        by_epoch=True,
        begin=10,
        end=90,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=90, val_interval=10)
val_cfg = dict()
test_cfg = dict()
# `--auto-scale-lr` rescales from 16384 if the total batch differs.
auto_scale_lr = dict(base_batch_size=16384)
