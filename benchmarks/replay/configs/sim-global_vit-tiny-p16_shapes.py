# SIM with the dense term off: the paper's global UniGrad term alone
# (alpha_1 = 1, alpha_2 = 0), at the replay benchmark's ViT-Tiny size. Beside
# sim-paper_vit-tiny-p16_shapes.py (alpha_2 = 4) it measures what the dense
# loss itself adds; everything else (views, mask, decoder, target, schedule)
# is the paper form's.
_base_ = 'sim-paper_vit-tiny-p16_shapes.py'

model = dict(head=dict(alpha_global=1., alpha_dense=0.))
