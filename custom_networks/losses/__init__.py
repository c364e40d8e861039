"""Losses of the papers as MONAI-style ``_Loss`` components: Tanimoto with complement (Res-CR-Net), the noisy-label
cross-entropy with bootstrapping (MS U-Net) and the centre-cropped loss wrapper (MS U-Net)."""

from custom_networks.losses.bootstrapped_ce import (
    BootstrappedWeightedCELoss,
    inverse_count_weights,
    inverse_frequency_weights,
)
from custom_networks.losses.center_crop import CenterCropLoss
from custom_networks.losses.tanimoto import TanimotoLoss

__all__ = [
    "BootstrappedWeightedCELoss",
    "CenterCropLoss",
    "TanimotoLoss",
    "inverse_count_weights",
    "inverse_frequency_weights",
]
