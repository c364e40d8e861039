"""MONAI transforms the papers need and MONAI lacks: weight maps, joint albumentations augmentation, BraTS labels
from region channels."""

from .augmentation import Albumentationsd, mildnet_augmentation
from .brats import BratsRegionsToLabels, BratsRegionsToLabelsd
from .overlay import SaveOverlayd, class_indices, overlay_errors
from .weight_maps import ContourWeights, ContourWeightsd, FuzzyBoundaryWeights, FuzzyBoundaryWeightsd

__all__ = [
    "Albumentationsd",
    "BratsRegionsToLabels",
    "BratsRegionsToLabelsd",
    "ContourWeights",
    "ContourWeightsd",
    "FuzzyBoundaryWeights",
    "FuzzyBoundaryWeightsd",
    "SaveOverlayd",
    "class_indices",
    "mildnet_augmentation",
    "overlay_errors",
]
