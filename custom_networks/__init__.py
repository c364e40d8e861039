"""MONAI implementations of MILDNet, MultiResUNet, MS U-Net and Res-CR-Net, with their training components."""

__version__ = "0.1.0"
