# Copyright (c) mmsim contributors. All rights reserved.
from .dense_probe import (confusion_matrix, dense_probe_miou,
                          dense_probe_miou_of_features, extract_patch_features,
                          mean_iou, patch_centre_labels)
from .dense_probe_set import DenseProbeSet, load_dense_probe_set
from .dense_retrieval import (dense_nn_retrieval, oracle_miou,
                              patch_class_histograms, pixel_patch_features,
                              retrieval_miou, standardise)
from .feature_extraction import (backbone_feature_map, extract_pixel_features,
                                 extract_pooled_features,
                                 pooled_backbone_features)
from .knn import knn_accuracy, knn_classify
from .label_maps import check_same_label_maps, label_map
from .logistic_regression import (fit_logistic_regression,
                                  logistic_regression_accuracy,
                                  predict_logistic_regression)
from .model_loading import build_pretrain_model, save_initial_checkpoint

__all__ = [
    'extract_pooled_features', 'extract_pixel_features',
    'pooled_backbone_features', 'label_map', 'check_same_label_maps',
    'backbone_feature_map', 'knn_accuracy', 'knn_classify',
    'fit_logistic_regression', 'logistic_regression_accuracy',
    'predict_logistic_regression', 'DenseProbeSet', 'load_dense_probe_set',
    'patch_centre_labels', 'extract_patch_features', 'confusion_matrix',
    'mean_iou', 'dense_probe_miou', 'dense_probe_miou_of_features',
    'build_pretrain_model', 'save_initial_checkpoint',
    'patch_class_histograms', 'standardise', 'dense_nn_retrieval',
    'retrieval_miou', 'oracle_miou', 'pixel_patch_features'
]
