"""Print a Markdown table of the networks of ``custom_networks.nets`` built in their paper and bundle configurations.

    python scripts/network_table.py [--markdown_file PATH]

Columns: paper, the ``custom_networks.blocks`` classes found in the built network, supported spatial ranks, the
configuration (rank, input → output channels, widths where a bundle changes the paper's), the multiple every spatial
input size must be, the trainable parameters and the Keras total: trainable + BatchNorm running mean/var (see
:func:`custom_networks.nets.count_parameters`). Only the constructors run, no forward pass. The last configurations
are those of the 3-D bundles.
"""

from pathlib import Path
from typing import Any, NamedTuple

import fire
from torch import nn

from custom_networks import blocks
from custom_networks.nets import MILDNet, MSUNet, MultiResUNet, ResCRNet, ResidualUNet, UNet, count_parameters


class Config(NamedTuple):
    """One network in one paper configuration."""

    network: type[nn.Module]
    paper: str
    spatial_dims: int
    in_channels: int
    out_channels: int
    features: tuple[int, ...] | None = None  # None: the constructor's default (the paper's widths)


MILDNET = "Gudhe et al., Sci. Rep. 2021"
MULTIRES = "Ibtehaz & Rahman, Neural Netw. 2020"
CONFIGS = [
    Config(MILDNet, MILDNET, 2, 3, 1),
    Config(MILDNet, MILDNET, 3, 4, 3),
    Config(MILDNet, MILDNET, 3, 4, 3, (16, 32, 64, 128, 256)),  # bundle mildnet3d_brats_mri
    Config(MultiResUNet, MULTIRES, 2, 3, 1),
    Config(MultiResUNet, MULTIRES, 3, 4, 1),
    Config(MultiResUNet, MULTIRES, 3, 4, 3),  # bundle multiresunet3d_brats_mri
    Config(MSUNet, "Kurian, Lohan et al.", 2, 3, 2),
    Config(ResCRNet, "Abdallah et al., Mach. Learn.: Sci. Technol. 2020", 2, 3, 4),
    Config(UNet, f"Ronneberger et al., MICCAI 2015 (baseline of {MULTIRES})", 2, 1, 1),
    Config(ResidualUNet, f"baseline of {MILDNET}", 2, 1, 1),
]
TWO_D_ONLY = (ResCRNet,)  # no spatial_dims argument
HEADER = [
    "Network",
    "Paper",
    "Blocks",
    "Supports",
    "Configuration (dims, in → out)",
    "Input multiple",
    "Trainable",
    "Trainable + BN running mean/var (Keras total)",
]


def build(config: Config, **options: Any) -> nn.Module:
    """The network of ``config``, freshly initialized; ``options`` are further constructor arguments."""
    channels = (config.in_channels, config.out_channels)
    if config.network in TWO_D_ONLY:
        return config.network(*channels, **options)
    widths = {} if config.features is None else {"features": config.features}
    return config.network(config.spatial_dims, *channels, **widths, **options)


def block_names(net: nn.Module) -> str:
    """Names of the ``custom_networks.blocks`` classes instantiated in ``net``, or "—" for none."""
    found = [name for name in blocks.__all__ if any(isinstance(m, getattr(blocks, name)) for m in net.modules())]
    return ", ".join(found) or "—"


def row(config: Config) -> list[str]:
    """Build the network and return its table cells."""
    net = build(config)
    trainable, total = count_parameters(net)
    return [
        config.network.__name__,
        config.paper,
        block_names(net),
        "2-D" if config.network in TWO_D_ONLY else "2-D, 3-D",
        f"{config.spatial_dims}-D, {config.in_channels} → {config.out_channels}"
        + ("" if config.features is None else f", features {config.features[0]}…{config.features[-1]}"),
        str(getattr(net, "multiple", 1)),  # ResCRNet has none: it takes any size
        f"{trainable:,}",
        f"{total:,}",
    ]


def table() -> str:
    """The Markdown table of all configurations."""
    lines = [HEADER, ["---"] * len(HEADER), *(row(config) for config in CONFIGS)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines) + "\n"


def main(markdown_file: str | None = None) -> None:
    """Print the table and, with ``markdown_file``, also write it there.

    Args:
        markdown_file: optional path of a Markdown file to write the table to.
    """
    text = table()
    print(text, end="")
    if markdown_file is not None:
        Path(markdown_file).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    fire.Fire(main)
