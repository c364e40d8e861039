"""MONAI transforms the papers need and MONAI lacks: weight maps and joint albumentations augmentation."""

from .augmentation import Albumentationsd, mildnet_augmentation
from .overlay import SaveOverlayd, class_indices, overlay_errors
from .weight_maps import ContourWeights, ContourWeightsd, FuzzyBoundaryWeights, FuzzyBoundaryWeightsd

__all__ = [
    "Albumentationsd",
    "ContourWeights",
    "ContourWeightsd",
    "FuzzyBoundaryWeights",
    "FuzzyBoundaryWeightsd",
    "SaveOverlayd",
    "class_indices",
    "mildnet_augmentation",
    "overlay_errors",
]
