# SIM's pre-training pipeline pieces for mmpretrain 1.2 (the mmselfsup
# ones: ../../../sim/_base_/sim_pipeline.py, whose decoding, jitter and
# grey this file keeps). Blur and solarise are mmpretrain's GaussianBlur
# (PIL ImageFilter.GaussianBlur, radius ~ U(0.1, 2.0)) and Solarize
# (threshold 128): the release's own algorithms, where mmselfsup's
# RandomGaussianBlur (cv2) is a stand-in. mmpretrain's PackInputs packs the
# view-1 mask itself; rel_pos rides along as an algorithm key.
_base_ = ['../../../sim/_base_/sim_pipeline.py']

view_1_colour = [
    _base_.color_jitter, _base_.grayscale,
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=1.0)
]
view_2_colour = [
    _base_.color_jitter, _base_.grayscale,
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2)
]
view_colour_pipelines = [view_1_colour, view_2_colour]
pack_inputs = dict(
    _delete_=True,
    type='PackInputs',
    algorithm_keys=['rel_pos'],
    meta_keys=['img_path'])
