# SIM ViT-L/16 for mmpretrain 1.2 (not in the release; same recipe, encoder
# width 1024 fed to the 768-wide projector/predictor):
# ../../sim/sim_vit-large-p16_16xb256-amp-coslr-1600e_in1k.py.
# Iterations: 1,281,167 images / (16 GPUs x 256), last batch dropped: 312
# per epoch, 499,200 in total.
_base_ = 'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py'

model = dict(backbone=dict(arch='l'), neck=dict(in_channels=1024))
