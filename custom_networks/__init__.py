"""MONAI implementations of MILDNet, MultiResUNet, MS U-Net and Res-CR-Net, with their training components."""

__version__ = "0.5.0"

from custom_networks import allocator, blocks, data, engines, handlers, inferers, losses, metrics, nets, transforms  # noqa: E402

__all__ = ["allocator", "blocks", "data", "engines", "handlers", "inferers", "losses", "metrics", "nets", "transforms"]
