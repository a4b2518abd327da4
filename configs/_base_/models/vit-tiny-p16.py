# The tiny ViT of every CPU-sized config (the quick start, its evaluation
# twins and the replay benchmark): 192 wide, 6 blocks of 3 heads with a
# 768-wide FFN, 16 px patches on 96 px inputs, a 6 x 6 grid. Written only
# here; a config inherits this file and sets its encoder with
#   backbone=dict(arch=dict(_delete_=True, **_base_.vit_tiny_arch),
#                 img_size=_base_.vit_tiny_img_size,
#                 patch_size=_base_.vit_tiny_patch_size)
# (the arch dict replaces the base's ``arch='b'``; mmcls's arch keys, so
# SIMViT, mmcls's VisionTransformer, MAEViT and MoCoV3ViT all take it).
vit_tiny_arch = dict(
    embed_dims=192, num_layers=6, num_heads=3, feedforward_channels=768)
vit_tiny_img_size = 96
vit_tiny_patch_size = 16
