# Mask R-CNN with a ViTDet-style ViT-B/16 backbone (SIMViTDet), the simple
# feature pyramid and LayerNorm in the conv heads, as in ViTDet.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

custom_imports = dict(imports=['mmsim.det'], allow_failed_imports=False)

# mmdet 3.3.0 has the heads ViTDet uses (RPNHead with num_convs,
# Shared4Conv1FCBBoxHead and FCNMaskHead with norm_cfg) but no 2-D
# LayerNorm: mmsim.det registers one.
head_norm_cfg = dict(type='SIMLayerNorm2d', eps=1e-6)

model = dict(
    data_preprocessor=dict(
        pad_size_divisor=32,
        # LSJ: every training image is padded to the 1024 x 1024 canvas.
        batch_augments=[
            dict(type='BatchFixedSizePad', size=(1024, 1024), pad_mask=True)
        ]),
    backbone=dict(
        _delete_=True,
        type='SIMViTDet',
        arch='b',
        img_size=1024,
        patch_size=16,
        pretrain_img_size=224,  # 14 x 14 pre-training grid, resized
        window_size=14,
        global_attn_indexes=(2, 5, 8, 11),
        use_rel_pos=True,
        drop_path_rate=0.1,
        with_cp=False,  # True trades a second forward for memory
        init_cfg=dict(
            type='Pretrained',
            # from tools/model_converters/sim_to_vitdet.py (ours, or with
            # --release the authors' weights, CC-BY-NC 4.0)
            checkpoint='checkpoints/sim_vit-base-p16_vitdet.pth')),
    neck=dict(
        _delete_=True,
        type='SIMSimpleFPN',
        in_channels=768,
        out_channels=256,
        scale_factors=(4., 2., 1., .5),  # strides 4, 8, 16, 32
        num_outs=5,  # + stride 64, max-pooled, for RPN
        norm_cfg=head_norm_cfg),
    rpn_head=dict(num_convs=2),  # ViTDet: two 3x3 convs, no norm
    roi_head=dict(
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',  # 4 convs + 1 fc, LN in convs
            conv_out_channels=256,
            norm_cfg=head_norm_cfg),
        mask_head=dict(norm_cfg=head_norm_cfg)))  # 4 convs with LN
