"""Segmentation networks: MILDNet, MultiResUNet, MS U-Net, Res-CR-Net and the U-Net baselines."""

from .memory_format import to_channels_last
from .mildnet import MILDNet
from .msunet import MSUNet
from .multiresunet import MultiResUNet
from .parameter_count import count_parameters
from .rescrnet import ResCRNet
from .unet import ResidualUNet, UNet
from .unetplusplus import UNetPlusPlus

__all__ = [
    "count_parameters",
    "MILDNet",
    "MSUNet",
    "MultiResUNet",
    "ResCRNet",
    "ResidualUNet",
    "to_channels_last",
    "UNet",
    "UNetPlusPlus",
]
