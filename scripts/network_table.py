"""Print a Markdown table of the networks of ``custom_networks.nets`` built in their paper and bundle configurations.

    python scripts/network_table.py [--markdown_file PATH]

Columns: paper, the ``custom_networks.blocks`` classes found in the built network, supported spatial ranks, the
configuration (rank, input → output channels, widths where a bundle changes the paper's), the multiple every spatial
input size must be, the trainable parameters and the Keras total: trainable + BatchNorm running mean/var (see
:func:`custom_networks.nets.count_parameters`). Only the constructors run, no forward pass. The last configurations
are those of the 3-D bundles.
"""

from pathlib import Path

from torch import nn

from custom_networks import blocks
from custom_networks.cli import run_script
from custom_networks.nets import count_parameters
from custom_networks.nets.registry import NETWORKS, Configuration, NetworkSpec

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


def block_names(net: nn.Module) -> str:
    """Names of the ``custom_networks.blocks`` classes instantiated in ``net``, or "—" for none."""
    found = [name for name in blocks.__all__ if any(isinstance(m, getattr(blocks, name)) for m in net.modules())]
    return ", ".join(found) or "—"


def paper_cell(spec: NetworkSpec) -> str:
    """The network's paper and the papers that compare against it."""
    compared = "; ".join(NETWORKS[name].paper for name in spec.baseline_of)
    if not compared:
        return spec.paper
    return f"{spec.paper} (baseline of {compared})" if spec.paper else f"baseline of {compared}"


def row(spec: NetworkSpec, config: Configuration) -> list[str]:
    """Build the network and return its table cells."""
    net = spec.build(config)
    trainable, total = count_parameters(net)
    return [
        spec.network.__name__,
        paper_cell(spec),
        block_names(net),
        ", ".join(f"{dims}-D" for dims in spec.spatial_dims),
        f"{config.spatial_dims}-D, {config.in_channels} → {config.out_channels}"
        + ("" if config.features is None else f", features {config.features[0]}…{config.features[-1]}"),
        str(getattr(net, "multiple", 1)),  # ResCRNet has none: it takes any size
        f"{trainable:,}",
        f"{total:,}",
    ]


def table() -> str:
    """The Markdown table of all configurations."""
    lines = [
        HEADER,
        ["---"] * len(HEADER),
        *(row(spec, config) for spec in NETWORKS.values() for config in spec.configurations),
    ]
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
    run_script(main, __doc__)
