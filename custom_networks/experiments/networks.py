"""The ``network_def`` that swaps a network of :data:`~custom_networks.nets.registry.NETWORKS` into a bundle."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monai.bundle import ConfigParser

from custom_networks.errors import BadValueError
from custom_networks.nets.registry import NETWORKS, network_name

__all__ = ["bundle_config", "bundle_network", "bundle_spatial_dims", "check_roi_size", "network_def"]


def bundle_config(bundle_dir: Path, overrides: dict[str, Any], protocol_configs: Sequence[str] = ()) -> ConfigParser:
    """The bundle's ``train.json``, its ``protocol_configs`` on top (e.g. ``paper_train.json``) and ``overrides``."""
    parser = ConfigParser()
    parser.read_config([str(bundle_dir / "configs" / name) for name in ("train.json", *protocol_configs)])
    parser.update(overrides)
    return parser


def bundle_network(parser: ConfigParser) -> str:
    """Short name of the bundle's own network (``network_def`` of its config).

    Raises:
        ValueError: the bundle's network is not one of :data:`~custom_networks.nets.registry.NETWORKS`.
    """
    target = parser.get("network_def")["_target_"]
    name = network_name(target)
    if name is None:
        raise BadValueError(f"the bundle's network {target} is not one of the comparable networks {sorted(NETWORKS)}.")
    return name


def bundle_spatial_dims(parser: ConfigParser) -> int:
    """Spatial dimensions of the bundle's network (2 for a network without the argument, which is 2-D only)."""
    return parser.get_parsed_content("network_def#spatial_dims") if "network_def#spatial_dims" in parser else 2


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
        raise BadValueError(f"unknown network {name!r}; choose from {sorted(NETWORKS)}.")
    own = bundle_network(parser)
    if name == own:
        return None
    spec = NETWORKS[name]
    spatial_dims = bundle_spatial_dims(parser)
    if spatial_dims not in spec.spatial_dims:
        supported = " and ".join(f"{dims}-D" for dims in spec.spatial_dims)
        raise BadValueError(f"{name} is {supported} only; the bundle is {spatial_dims}-D.")
    override: dict[str, Any] = {"_target_": spec.target, **dict(spec.options)}
    if spec.takes_spatial_dims:
        override["spatial_dims"] = spatial_dims
    override["in_channels"] = parser.get_parsed_content("network_def#in_channels")
    override["out_channels"] = parser.get_parsed_content("network_def#out_channels")
    if spec.unet_features and NETWORKS[own].unet_features and parser.get("network_def").get("features") == "@features":
        override["features"] = "@features"
    return override


def check_roi_size(name: str, parser: ConfigParser, definition: dict[str, Any] | None) -> None:
    """Raises a one-line error if network ``name`` (built from ``definition``, the bundle's own ``network_def`` if
    None) cannot take the bundle's ``roi_size``, before any run of a comparison starts.

    Raises:
        ValueError: a size of ``roi_size`` is no multiple of the network's ``multiple``.
    """
    network_parser = ConfigParser(copy.deepcopy(parser.config))
    if definition is not None:
        network_parser["network_def"] = definition
    multiple = getattr(network_parser.get_parsed_content("network_def"), "multiple", 1)
    roi_size = list(parser.get_parsed_content("roi_size"))
    if any(size % multiple for size in roi_size):
        fitting = [max(multiple, size // multiple * multiple) for size in roi_size]
        raise BadValueError(
            f"{name} needs sizes that are multiples of {multiple} and the bundle's roi_size is {roi_size}: "
            f'pass --roi_size "{fitting}" (or other multiples of {multiple}).'
        )
