# The paper's form of the loss, for mmpretrain 1.2
# (../../sim/sim-global-dense_vit-base-p16_16xb256-amp-coslr-400e_in1k.py):
# global + dense UniGrad with alpha_1 = 1, alpha_2 = 4 (the dense term then
# subtracts each image's token mean), and the paper's default crop scale
# (0.2, 1). Best at short schedules.
# Iterations: 1,281,167 images / (16 GPUs x 256), last batch dropped: 312
# per epoch, 124,800 in total.
_base_ = 'sim_vit-base-p16_16xb256-amp-coslr-400e_in1k.py'

model = dict(head=dict(alpha_global=1., alpha_dense=4.))

train_pipeline = [
    _base_.load_image,
    dict(
        type='SIMTwoViewCrop',
        size=224,
        scale=(0.2, 1.0),
        view_pipelines=_base_.view_colour_pipelines),
    _base_.mask_generator,
    _base_.pack_inputs,
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
