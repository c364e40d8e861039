"""Segmentation networks: MILDNet, MultiResUNet, MS U-Net, Res-CR-Net and the U-Net baselines."""

from .mildnet import MILDNet
from .msunet import MSUNet
from .multiresunet import MultiResUNet
from .rescrnet import ResCRNet
from .unet import ResidualUNet, UNet
from .unetplusplus import UNetPlusPlus
from .utils import count_parameters

__all__ = ["count_parameters", "MILDNet", "MSUNet", "MultiResUNet", "ResCRNet", "ResidualUNet", "UNet", "UNetPlusPlus"]
