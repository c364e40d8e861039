"""Inferers the papers need and MONAI lacks: sliding windows stitched from their centre crops, test-time flips,
autocast on the CPU."""

from .autocast import AutocastInferer
from .center_crop import CenterCropSlidingWindowInferer
from .flip_ensemble import FlipEnsembleInferer

__all__ = ["AutocastInferer", "CenterCropSlidingWindowInferer", "FlipEnsembleInferer"]
