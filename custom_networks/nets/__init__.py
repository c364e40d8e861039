"""Segmentation networks: MILDNet, MultiResUNet, MS U-Net, Res-CR-Net and their papers' baselines."""

from custom_networks.nets.attention_unet import AttentionUNet
from custom_networks.nets.cicek_unet import CicekUNet
from custom_networks.nets.initialization import INITIALIZATIONS, initialize
from custom_networks.nets.memory_format import is_channels_last, to_channels_last
from custom_networks.nets.mildnet import MILDNet
from custom_networks.nets.msunet import MSUNet
from custom_networks.nets.multiresunet import MultiResUNet
from custom_networks.nets.parameter_count import count_parameters
from custom_networks.nets.rescrnet import ResCRNet
from custom_networks.nets.resdunet import ResDUnet
from custom_networks.nets.unet import ResidualUNet, UNet
from custom_networks.nets.unetplusplus import UNetPlusPlus

__all__ = [
    "AttentionUNet",
    "CicekUNet",
    "INITIALIZATIONS",
    "count_parameters",
    "initialize",
    "is_channels_last",
    "MILDNet",
    "MSUNet",
    "MultiResUNet",
    "ResCRNet",
    "ResDUnet",
    "ResidualUNet",
    "to_channels_last",
    "UNet",
    "UNetPlusPlus",
]
