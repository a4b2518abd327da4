# SIM ViT-L/16 (not in the release; same recipe, encoder width 1024 fed to
# the 768-wide projector/predictor).
_base_ = 'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py'

model = dict(backbone=dict(arch='l'), neck=dict(in_channels=1024))
