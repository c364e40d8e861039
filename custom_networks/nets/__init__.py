"""Segmentation networks: MILDNet, MultiResUNet, MS U-Net, Res-CR-Net and the U-Net baselines."""

from .mildnet import MILDNet
from .msunet import MSUNet
from .multiresunet import MultiResUNet
from .rescrnet import ResCRNet
from .unet import ResidualUNet, UNet

__all__ = ["MILDNet", "MSUNet", "MultiResUNet", "ResCRNet", "ResidualUNet", "UNet"]
