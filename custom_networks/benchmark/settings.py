"""The settings every section runs with (:class:`BenchmarkSettings`, made from the command-line options by
:func:`run_settings`) and the networks they measure (:class:`Network`, the configurations of
:data:`custom_networks.nets.registry.NETWORKS`)."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from custom_networks.errors import BadValueError
from custom_networks.nets.registry import NETWORKS, Configuration, NetworkSpec

__all__ = ["COMPILED", "NETWORK_CLASSES", "Network", "Row", "BenchmarkSettings", "log", "names", "run_settings"]

Row = dict[str, Any]

COMPILED = ("MILDNet",)  # torch.compile takes minutes per network on a 2-core CPU, so one network by default


class Network(NamedTuple):
    """A network of the registry in one of its configurations."""

    spec: NetworkSpec
    config: Configuration

    @property
    def name(self) -> str:
        """The class name, which ``--networks`` takes."""
        return self.spec.network.__name__

    @property
    def label(self) -> str:
        """``MILDNet 2-D 3→1`` plus the widths where they differ from the constructor's default."""
        config = self.config
        widths = "" if config.features is None else f" {config.features[0]}…{config.features[-1]}"
        return f"{self.name} {config.spatial_dims}-D {config.in_channels}→{config.out_channels}{widths}"

    def build(self, **options: Any) -> nn.Module:
        """The network, freshly initialised; ``options`` are further constructor arguments."""
        return self.spec.build(self.config, **options)


NETWORKS_MEASURED = [Network(spec, config) for spec in NETWORKS.values() for config in spec.configurations]
NETWORK_CLASSES = sorted({network.name for network in NETWORKS_MEASURED})


class BenchmarkSettings(NamedTuple):
    """Settings every section runs with."""

    device: torch.device
    quick: bool
    repeats: int
    compile: tuple[str, ...] = ()  # class names of the networks whose torch.compile variant is measured
    spatial_dims: tuple[int, ...] = (2, 3)  # the ranks of the networks network_steps and optimisations measure
    networks: tuple[str, ...] = ()  # class names network_steps and optimisations measure; empty: all

    def configurations(self) -> list[Network]:
        """The registry's configurations of the chosen ranks and networks, 2-D first."""
        chosen = [
            network
            for network in NETWORKS_MEASURED
            if network.config.spatial_dims in self.spatial_dims and (not self.networks or network.name in self.networks)
        ]
        return sorted(chosen, key=lambda network: network.config.spatial_dims)


def log(message: str) -> None:
    """A progress line, on stderr so that stdout holds the machine and the tables."""
    print(message, file=sys.stderr, flush=True)


def names(value: str | Sequence[str]) -> list[str]:
    """A comma-separated string (or what ``fire`` made of one: a tuple) as a list of names."""
    items = value.split(",") if isinstance(value, str) else value
    return [str(item).strip() for item in items if str(item).strip()]


def run_device(device: str) -> torch.device:
    """``cpu``, ``cuda`` or ``cuda:N`` as a device with an index on CUDA.

    Raises:
        BadValueError: another device, or CUDA where it is not available.
    """
    if not re.fullmatch(r"cpu|cuda(:\d+)?", str(device)):
        raise BadValueError(f"--device must be cpu, cuda or cuda:N, got {device!r}.")
    torch_device = torch.device(device)
    if torch_device.type == "cuda":
        if not torch.cuda.is_available():
            raise BadValueError("--device cuda: CUDA is not available.")
        torch_device = torch.device("cuda", torch_device.index or 0)
    return torch_device


def run_settings(
    device: str = "cpu",
    quick: bool = False,
    repeats: int | None = None,
    compile: str | Sequence[str] | None = None,  # noqa: A002 - the name of the switch it measures
    spatial_dims: int | Sequence[int] | None = None,
    networks: str | Sequence[str] | None = None,
) -> BenchmarkSettings:
    """The :class:`BenchmarkSettings` of the command-line options, with their defaults (see
    :func:`~custom_networks.benchmark.run_benchmark`).

    Raises:
        BadValueError: an option out of range or naming an unknown network, with a message saying which.
    """
    repeats = (1 if quick else 3) if repeats is None else int(repeats)
    if repeats < 1:
        raise BadValueError(f"--repeats must be at least 1, got {repeats}.")
    compiled = (() if quick else COMPILED) if compile is None else tuple(names(compile))
    if spatial_dims is None:
        spatial_dims = (2,) if quick else (2, 3)
    dims = tuple(sorted({int(d) for d in ((spatial_dims,) if isinstance(spatial_dims, int) else spatial_dims)}))
    if not dims or not set(dims) <= {2, 3}:
        raise BadValueError(f"--spatial_dims must be 2, 3 or 2,3, got {spatial_dims!r}.")
    chosen = () if networks is None else tuple(names(networks))
    if unknown := sorted(set(chosen) - set(NETWORK_CLASSES)):
        raise BadValueError(f"--networks: unknown {unknown}; choose from {NETWORK_CLASSES}.")
    return BenchmarkSettings(
        run_device(device), bool(quick), repeats, tuple(n for n in compiled if n != "none"), dims, chosen
    )
