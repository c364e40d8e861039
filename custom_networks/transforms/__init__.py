"""MONAI transforms the papers need and MONAI lacks: weight maps, joint albumentations augmentation, BraTS labels
from region channels, checks of input files, post-processing and the mean of an ensemble's probabilities."""

from custom_networks.transforms.augmentation import Albumentationsd, mildnet_augmentation
from custom_networks.transforms.brats import BratsRegionsToLabels, BratsRegionsToLabelsd
from custom_networks.transforms.ensemble import MeanEnsembleLogitsd, probability_logits
from custom_networks.transforms.input_checks import CheckedLoadImaged, CheckInputd, InputFileError, input_error
from custom_networks.transforms.overlay import SaveOverlayd, class_indices, overlay_errors
from custom_networks.transforms.postprocessing import PostprocessMasks, PostprocessMasksd, load_postprocessing
from custom_networks.transforms.weight_maps import (
    ContourWeights,
    ContourWeightsd,
    FuzzyBoundaryWeights,
    FuzzyBoundaryWeightsd,
)

__all__ = [
    "Albumentationsd",
    "BratsRegionsToLabels",
    "BratsRegionsToLabelsd",
    "CheckInputd",
    "CheckedLoadImaged",
    "ContourWeights",
    "ContourWeightsd",
    "FuzzyBoundaryWeights",
    "FuzzyBoundaryWeightsd",
    "InputFileError",
    "MeanEnsembleLogitsd",
    "PostprocessMasks",
    "PostprocessMasksd",
    "SaveOverlayd",
    "class_indices",
    "input_error",
    "load_postprocessing",
    "mildnet_augmentation",
    "overlay_errors",
    "probability_logits",
]
