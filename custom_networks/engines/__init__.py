"""Additions to MONAI's engines for the papers' training: the weight map of a batch handed to the loss."""

from custom_networks.engines.weight_map import WeightMapHandler, WeightMapLoss

__all__ = ["WeightMapHandler", "WeightMapLoss"]
