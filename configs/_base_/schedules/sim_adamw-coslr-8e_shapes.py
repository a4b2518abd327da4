# The quick start's optimiser and schedule, host-free (both hosts' quick
# starts inherit it: ../../sim/ and ../../mmpretrain/sim/): 8 epochs at
# a total batch of 32 (the quick start states its iterations).
# AdamW as the recipe, without AMP (CPU); lr 2.5e-4 for this short run (at
# 1e-3 the kNN monitor peaks after the warm-up epoch and falls back; see
# docs/benchmarks/replay/README.md).
optim_wrapper = dict(
    type='OptimWrapper',
    # leaves the frozen momentum target out without a warning per tensor
    constructor='SkipFrozenOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=2.5e-4, betas=(0.9, 0.95), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(
        bias_decay_mult=0., norm_decay_mult=0., flat_decay_mult=0.))
max_epochs = 8
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        eta_min=0.,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
# No `type` here on purpose: mmselfsup 1.0.0 declares a registry location
# (mmselfsup.engine.runner) that does not exist, and mmengine >= 0.7 fails
# importing it whenever a loop is looked up by name; without `type` the
# runner builds mmengine's EpochBasedTrainLoop directly (by_epoch=True).
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
# The total batch the lr above is set for (--auto-scale-lr scales it).
auto_scale_lr = dict(base_batch_size=32)
