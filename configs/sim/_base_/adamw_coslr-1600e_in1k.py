# Release schedule (docs/method.md §4): AdamW (0.9, 0.95),
# lr = 6.25e-5 * batch / 256,
# wd 0.05 on every trainable tensor of two or more dimensions (cls and mask
# tokens included; biases and norm weights excluded), clip 1.0, fp16 AMP,
# 40 warm-up epochs then cosine to 0.
# Host-free: both hosts' ImageNet recipes inherit it (../../mmpretrain/sim/).
total_batch = 4096  # 16 GPUs x 256 (the release ran 32 x 128)
base_lr = 6.25e-5 * total_batch / 256  # = 1e-3

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale=dict(init_scale=2.**16, growth_interval=2000),
    # leaves the frozen momentum target out without a warning per tensor
    constructor='SkipFrozenOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=base_lr, betas=(0.9, 0.95), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(
        bias_decay_mult=0., norm_decay_mult=0., flat_decay_mult=0.))

max_epochs = 1600
warmup_epochs = 40
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=0.,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
# No `type` here on purpose: mmselfsup 1.0.0 declares a registry location
# (mmselfsup.engine.runner) that does not exist, and mmengine >= 0.7 fails
# importing it whenever a loop is looked up by name; without `type` the
# runner builds mmengine's EpochBasedTrainLoop directly (by_epoch=True).
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
# The batch above is the reference for lr scaling when GPUs change.
auto_scale_lr = dict(base_batch_size=total_batch)
