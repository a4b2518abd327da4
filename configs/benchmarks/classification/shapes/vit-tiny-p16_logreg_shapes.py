# Tiny twin of ../imagenet/vit-base-p16_logreg-1pct_in1k.py: the same
# logistic regression (lambda 0.1, rows centred and L2 normalised, no
# intercept), fitted on all shapes training images (1 % of the default
# 2,000 would leave 2-3 examples per class) and scored on the validation
# images.
# python tools/benchmarks/classification/logistic_regression.py \
#     <this config> <checkpoint>
_base_ = '_base_/vit-tiny-p16_frozen-features_shapes.py'

logistic_regression = dict(
    l2=0.1, max_iter=1000, normalize=True, fit_intercept=False)
