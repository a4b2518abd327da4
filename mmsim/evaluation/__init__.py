# Copyright (c) mmsim contributors. All rights reserved.
from .dense_probe import (DenseProbeSet, confusion_matrix, dense_probe_miou,
                          extract_patch_features, load_dense_probe_set,
                          mean_iou, patch_centre_labels)
from .feature_extraction import (backbone_feature_map, extract_pooled_features,
                                 pooled_backbone_features)
from .knn import knn_accuracy, knn_classify
from .logistic_regression import (fit_logistic_regression,
                                  logistic_regression_accuracy,
                                  predict_logistic_regression)
from .model_loading import build_pretrain_model, save_initial_checkpoint

__all__ = [
    'extract_pooled_features', 'pooled_backbone_features',
    'backbone_feature_map', 'knn_accuracy', 'knn_classify',
    'fit_logistic_regression', 'logistic_regression_accuracy',
    'predict_logistic_regression', 'DenseProbeSet', 'load_dense_probe_set',
    'patch_centre_labels', 'extract_patch_features', 'confusion_matrix',
    'mean_iou', 'dense_probe_miou', 'build_pretrain_model',
    'save_initial_checkpoint'
]
