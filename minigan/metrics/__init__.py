"""Evaluation: the 2-D mixture protocol (modes, high-quality fraction, reverse KL) and the image
protocol (a classifier trained with minigan's own layers; coverage, classifier score, Fréchet
distance and k-NN precision/recall, each beside the same figures for held-out real images), and
Stacked MNIST's mode count."""
from .classifier import Classifier, load_or_train_classifier, make_classifier, train_classifier
from .images import (PixelFeatures, class_coverage, classifier_score, evaluate_images, format_table,
                     frechet_distance, nearest_distance, precision_recall_knn)
from .mixture import evaluate_mixture, evaluate_toy, summarize
from .stacked import digits_of, format_mode_table, mode_figures, mode_ids

__all__ = ["evaluate_mixture", "evaluate_toy", "summarize",
           "Classifier", "make_classifier", "train_classifier", "load_or_train_classifier",
           "class_coverage", "classifier_score", "frechet_distance", "precision_recall_knn",
           "evaluate_images", "format_table", "nearest_distance", "PixelFeatures",
           "digits_of", "mode_ids", "mode_figures", "format_mode_table"]
