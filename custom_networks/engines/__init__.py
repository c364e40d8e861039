"""Additions to MONAI's engines for the papers' training: the weight map of a batch handed to the loss."""

from .weight_map_iteration import WeightMapIteration

__all__ = ["WeightMapIteration"]
