"""Inferers the papers need and MONAI lacks: sliding windows stitched from their centre crops, test-time flips,
autocast on the CPU."""

from custom_networks.inferers.autocast import AutocastInferer
from custom_networks.inferers.center_crop import CenterCropSlidingWindowInferer
from custom_networks.inferers.flip_ensemble import FlipEnsembleInferer

__all__ = ["AutocastInferer", "CenterCropSlidingWindowInferer", "FlipEnsembleInferer"]
