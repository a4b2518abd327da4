# SIM ViT-B/16 as in the authors' release recipe (docs/method.md §2, §4).
# Host-free: mmpretrain's recipes (../../mmpretrain/sim/) inherit it too;
# both hosts register a SelfSupDataPreprocessor taking these arguments.
custom_imports = dict(imports=['mmsim'], allow_failed_imports=False)

model = dict(
    type='SIM',
    base_momentum=0.995,  # m_0: weight the target keeps (release recipe)
    target_update_interval=1,  # = optim_wrapper accumulative_counts
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='SIMViT',
        arch='b',
        img_size=224,
        patch_size=16,
        frozen_patch_embed=True),  # MoCo v3-style frozen random patch embed
    neck=dict(
        type='SIMNeck',
        in_channels=768,
        embed_dims=768,  # 512 is the release code's default
        grid_size=14,
        num_projector_layers=2,
        num_predictor_layers=4,
        num_heads=16,
        norm_cfg=dict(type='SIMTokenBN')),  # LN: dict(type='LN', eps=1e-6)
    head=dict(
        type='UniGradHead',
        alpha_global=0.,  # release: dense term only
        alpha_dense=1.,
        neg_weight=0.02))
