"""MONAI implementations of MILDNet, MultiResUNet, MS U-Net and Res-CR-Net, with their training components."""

__version__ = "0.2.0"

from . import blocks, data, engines, handlers, inferers, losses, metrics, nets, transforms  # noqa: E402

__all__ = ["blocks", "data", "engines", "handlers", "inferers", "losses", "metrics", "nets", "transforms"]
