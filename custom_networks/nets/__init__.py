"""Segmentation networks: MILDNet, MultiResUNet, MS U-Net, Res-CR-Net and the U-Net baselines."""

from .mildnet import MILDNet
from .multiresunet import MultiResUNet
from .msunet import MSUNet
from .rescrnet import ResCRNet
from .unet import UNet, ResidualUNet

__all__ = ["MILDNet", "MSUNet", "MultiResUNet", "ResCRNet", "ResidualUNet", "UNet"]
