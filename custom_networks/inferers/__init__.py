"""Inferers the papers need and MONAI lacks: sliding windows stitched from their centre crops."""

from .center_crop import CenterCropSlidingWindowInferer

__all__ = ["CenterCropSlidingWindowInferer"]
