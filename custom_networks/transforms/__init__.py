"""MONAI transforms the papers need and MONAI lacks: weight maps, joint albumentations augmentation, BraTS labels
from region channels, checks of input files."""

from .augmentation import Albumentationsd, mildnet_augmentation
from .brats import BratsRegionsToLabels, BratsRegionsToLabelsd
from .input_checks import CheckedLoadImaged, CheckInputd, InputFileError, input_error
from .overlay import SaveOverlayd, class_indices, overlay_errors
from .weight_maps import ContourWeights, ContourWeightsd, FuzzyBoundaryWeights, FuzzyBoundaryWeightsd

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
    "SaveOverlayd",
    "class_indices",
    "input_error",
    "mildnet_augmentation",
    "overlay_errors",
]
