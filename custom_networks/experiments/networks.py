"""The networks a comparison can train, by short name, and the ``network_def`` that swaps one into a bundle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monai.bundle import ConfigParser

__all__ = ["NETWORKS", "NetworkSpec", "bundle_network", "network_def", "network_name"]


@dataclass(frozen=True)
class NetworkSpec:
    """How a network class of :mod:`custom_networks.nets` is swapped into a bundle and where its decoder is.

    Args:
        target: import path, the ``_target_`` of a ``network_def``.
        decoder: regular expression that the names (``named_modules``) of its decoder layers match in full.
        unet_features: takes U-Net-style ``features`` (filters per level, outermost first, bottleneck last).
        spatial_dims: takes ``spatial_dims`` (Res-CR-Net is 2-D only and does not).
    """

    target: str
    decoder: str
    unet_features: bool = False
    spatial_dims: bool = True


NETWORKS: dict[str, NetworkSpec] = {
    "mildnet": NetworkSpec("custom_networks.nets.MILDNet", r"decoder\.\d+", unet_features=True),
    "unet": NetworkSpec("custom_networks.nets.UNet", r"decoder\.\d+", unet_features=True),
    "residualunet": NetworkSpec("custom_networks.nets.ResidualUNet", r"decoder\.\d+", unet_features=True),
    "multiresunet": NetworkSpec("custom_networks.nets.MultiResUNet", r"decoders\.\d+", unet_features=True),
    # every nested node of UNet++ decodes: they all feed the full-resolution output
    "unetplusplus": NetworkSpec("custom_networks.nets.UNetPlusPlus", r"net\.upcat_\d_\d"),
    "msunet": NetworkSpec("custom_networks.nets.MSUNet", r"ups\.\d+"),
    # no encoder-decoder: every block keeps the input's size, so all of them count
    "rescrnet": NetworkSpec("custom_networks.nets.ResCRNet", r"conv_blocks\.\d+|head", spatial_dims=False),
}


def network_name(target: str) -> str | None:
    """Short name of the network whose import path is ``target``, or None."""
    return next((name for name, spec in NETWORKS.items() if spec.target == target), None)


def bundle_network(parser: ConfigParser) -> str:
    """Short name of the bundle's own network (``network_def`` of its config).

    Raises:
        ValueError: the bundle's network is not one of :data:`NETWORKS`.
    """
    target = parser.get("network_def")["_target_"]
    name = network_name(target)
    if name is None:
        raise ValueError(f"the bundle's network {target} is not one of the comparable networks {sorted(NETWORKS)}.")
    return name


def network_def(name: str, parser: ConfigParser) -> dict[str, Any] | None:
    """The ``network_def`` override that puts network ``name`` into the bundle read by ``parser``; None for the
    bundle's own network, which keeps its ``network_def`` as it is (all its settings).

    Another network gets the bundle's ``spatial_dims``, ``in_channels`` and ``out_channels`` (their values in the
    parsed config) and its own defaults otherwise; a network with U-Net-style ``features`` in a bundle whose network
    has them too gets ``"@features"``, so that it has the bundle's widths and a ``--features`` override shrinks all
    networks alike (the MILDNet paper trains its baselines with the same depth and filters).

    Raises:
        ValueError: unknown ``name``, or a 2-D-only network for a bundle of another dimensionality.
    """
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; choose from {sorted(NETWORKS)}.")
    own = bundle_network(parser)
    if name == own:
        return None
    spec = NETWORKS[name]
    spatial_dims = parser.get_parsed_content("network_def#spatial_dims") if "network_def#spatial_dims" in parser else 2
    override: dict[str, Any] = {"_target_": spec.target}
    if spec.spatial_dims:
        override["spatial_dims"] = spatial_dims
    elif spatial_dims != 2:
        raise ValueError(f"{name} is 2-D only; the bundle is {spatial_dims}-D.")
    override["in_channels"] = parser.get_parsed_content("network_def#in_channels")
    override["out_channels"] = parser.get_parsed_content("network_def#out_channels")
    if spec.unet_features and NETWORKS[own].unet_features and parser.get("network_def").get("features") == "@features":
        override["features"] = "@features"
    return override
