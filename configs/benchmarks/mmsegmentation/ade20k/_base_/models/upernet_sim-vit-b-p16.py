# UperNet on a SIM ViT-B/16 at 512 x 512, the MAE/BEiT segmentation
# protocol that the SIM paper follows for ADE20k (51.1 mIoU after 1600
# pre-training epochs). The reference for every value is mmseg 1.2.2's
# configs/mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py ("mmseg
# MAE" below), over the same base (mmseg::_base_/models/upernet_mae.py).
# The backbone is mmseg's own MAE (cls token, absolute position embedding,
# relative position bias and layer scale in every block): a SIM encoder
# has mmcls ViT keys, which MAE shares; see
# tools/model_converters/sim_to_mmseg.py.
_base_ = 'mmseg::_base_/models/upernet_mae.py'

# The 512 x 512 crop of mmseg's ADE20k pipeline (mmseg MAE) is written out
# below: ``crop_size`` belongs to the dataset base.
model = dict(
    # ImageNet mean / std on RGB, as SIM pre-trains (the base's values);
    # pad to the crop (mmseg MAE)
    data_preprocessor=dict(size=(512, 512)),
    backbone=dict(
        type='MAE',
        img_size=(512, 512),  # sizes the position grid and bias tables
        patch_size=16,
        embed_dims=768,
        num_layers=12,
        num_heads=12,
        mlp_ratio=4,
        # layer scale starting at 1: every pre-trained block computes its
        # pre-training function at the start (mmseg MAE; the base's 0.1 is
        # BEiT's, whose pre-training had layer scale)
        init_values=1.0,
        # relative position bias: always on in MAE, its tables start at
        # zero (MAEAttention), as MAE turns it on for transfer only
        drop_path_rate=0.1,  # mmseg MAE
        out_indices=[3, 5, 7, 11],  # mmseg MAE
        norm_cfg=dict(type='LN', eps=1e-6),  # SIM's encoder norms
        final_norm=False,  # SIM pre-trains without one
        init_cfg=dict(
            type='Pretrained',
            # from tools/model_converters/sim_to_mmseg.py (ours, or the
            # authors' weights with --release: CC-BY-NC 4.0); the 14 x 14
            # position grid is resized to 32 x 32 when MAE loads it
            checkpoint='checkpoints/sim_vit-base-p16_mmseg.pth')),
    # strides 4, 8, 16, 32 from the stride-16 map (mmseg MAE)
    neck=dict(embed_dim=768, rescales=[4, 2, 1, 0.5]),
    decode_head=dict(
        in_channels=[768, 768, 768, 768], num_classes=150,
        channels=768),  # mmseg MAE; ADE20k's 150 classes
    auxiliary_head=dict(in_channels=768, num_classes=150),  # mmseg MAE
    # sliding 512 x 512 windows: MAE's position grid and bias tables are
    # fixed at the crop (mmseg MAE)
    test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341)))
