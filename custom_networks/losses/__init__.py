"""Losses of the papers as MONAI-style ``_Loss`` components: Tanimoto with complement (Res-CR-Net), the noisy-label
cross-entropy with bootstrapping (MS U-Net) and the centre-cropped loss wrapper (MS U-Net)."""

from .bootstrapped_ce import BootstrappedWeightedCELoss, inverse_frequency_weights
from .center_crop import CenterCropLoss
from .tanimoto import TanimotoLoss

__all__ = ["BootstrappedWeightedCELoss", "CenterCropLoss", "TanimotoLoss", "inverse_frequency_weights"]
