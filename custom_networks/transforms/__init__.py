"""MONAI transforms the papers need and MONAI lacks: weight maps and joint albumentations augmentation."""

from .augmentation import Albumentationsd
from .weight_maps import ContourWeightsd, FuzzyBoundaryWeightsd

__all__ = ["Albumentationsd", "ContourWeightsd", "FuzzyBoundaryWeightsd"]
