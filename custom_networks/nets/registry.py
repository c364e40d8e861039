"""The networks of this package by short name: class, paper, configurations, baseline role and how a bundle swaps one
in. The one list of networks that the network table, the experiments, the benchmark and the tests read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from custom_networks.nets.attention_unet import AttentionUNet
from custom_networks.nets.cicek_unet import CicekUNet
from custom_networks.nets.mildnet import MILDNet
from custom_networks.nets.msunet import MSUNet
from custom_networks.nets.multiresunet import MultiResUNet
from custom_networks.nets.rescrnet import ResCRNet
from custom_networks.nets.resdunet import ResDUnet
from custom_networks.nets.unet import ResidualUNet, UNet
from custom_networks.nets.unetplusplus import UNetPlusPlus

__all__ = ["NETWORKS", "Configuration", "NetworkSpec", "baselines", "network_name"]

MILDNET_PAPER = "Gudhe et al., Sci. Rep. 2021"
MULTIRESUNET_PAPER = "Ibtehaz & Rahman, Neural Netw. 2020"


@dataclass(frozen=True)
class Configuration:
    """A network built as a paper (or a bundle) builds it.

    Args:
        spatial_dims: 2 or 3.
        in_channels: input channels.
        out_channels: output channels.
        features: U-Net-style widths (outermost first, bottleneck last); None for the constructor's default, the
            paper's widths.
    """

    spatial_dims: int
    in_channels: int
    out_channels: int
    features: tuple[int, ...] | None = None


@dataclass(frozen=True)
class NetworkSpec:
    """One network of :mod:`custom_networks.nets`.

    Args:
        network: the class.
        paper: the paper that proposes it ("" for a baseline that no paper of this project proposes).
        decoder: regular expression that the names (``named_modules``) of its decoder layers match in full.
        configurations: the configurations of its paper and of the bundles (network table and benchmark).
        unet_features: takes U-Net-style ``features`` (filters per level, outermost first, bottleneck last).
        spatial_dims: the ranks it supports; a 2-D-only network takes no ``spatial_dims`` argument.
        baseline_of: short names of the networks whose papers compare against it.
        options: constructor arguments that make this variant (e.g. U-Net with MLR skips).
    """

    network: type[nn.Module]
    paper: str
    decoder: str
    configurations: tuple[Configuration, ...] = ()
    unet_features: bool = False
    spatial_dims: tuple[int, ...] = (2, 3)
    baseline_of: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def target(self) -> str:
        """Import path, the ``_target_`` of a bundle's ``network_def``."""
        return f"custom_networks.nets.{self.network.__name__}"

    @property
    def takes_spatial_dims(self) -> bool:
        """The constructor has a ``spatial_dims`` argument (every network but the 2-D-only ones)."""
        return self.spatial_dims != (2,)

    def build(self, configuration: Configuration, **options: Any) -> nn.Module:
        """The network in ``configuration``, freshly initialized; ``options`` are further constructor arguments."""
        channels = (configuration.in_channels, configuration.out_channels)
        options = {**dict(self.options), **options}
        if configuration.features is not None:
            options = {"features": configuration.features, **options}
        if not self.takes_spatial_dims:
            return self.network(*channels, **options)
        return self.network(configuration.spatial_dims, *channels, **options)


NETWORKS: dict[str, NetworkSpec] = {
    "mildnet": NetworkSpec(
        MILDNet,
        MILDNET_PAPER,
        r"decoder\.\d+",
        (
            Configuration(2, 3, 1),
            Configuration(3, 4, 3),
            Configuration(3, 4, 3, (16, 32, 64, 128, 256)),  # bundle mildnet3d_brats_mri
        ),
        unet_features=True,
    ),
    "multiresunet": NetworkSpec(
        MultiResUNet,
        MULTIRESUNET_PAPER,
        r"decoders\.\d+",
        (
            Configuration(2, 3, 1),
            Configuration(3, 4, 1),
            Configuration(3, 4, 3),  # bundle multiresunet3d_brats_mri
        ),
        unet_features=True,
        baseline_of=("mildnet",),
    ),
    "msunet": NetworkSpec(MSUNet, "Kurian, Lohan et al.", r"ups\.\d+", (Configuration(2, 3, 2),)),
    # no encoder-decoder: every block keeps the input's size, so all of them count
    "rescrnet": NetworkSpec(
        ResCRNet,
        "Abdallah et al., Mach. Learn.: Sci. Technol. 2020",
        r"conv_blocks\.\d+|head",
        (Configuration(2, 3, 4),),
        spatial_dims=(2,),
    ),
    "unet": NetworkSpec(
        UNet,
        "Ronneberger et al., MICCAI 2015",
        r"decoder\.\d+",
        (Configuration(2, 1, 1),),
        unet_features=True,
        baseline_of=("mildnet", "multiresunet", "msunet"),
    ),
    "unet_mlr": NetworkSpec(
        UNet, "", r"decoder\.\d+", unet_features=True, baseline_of=("mildnet",), options=(("mlr_skips", True),)
    ),
    # the MILDNet paper's ResidualU-Net; the Res-CR-Net paper's "traditional Res-U-Net" ([choice]: the same network)
    "residualunet": NetworkSpec(
        ResidualUNet,
        "",
        r"decoder\.\d+",
        (Configuration(2, 1, 1),),
        unet_features=True,
        baseline_of=("mildnet", "rescrnet"),
    ),
    "resdunet": NetworkSpec(
        ResDUnet,
        "Amer et al., EMBC 2020",
        r"decoder\.\d+",
        (Configuration(2, 3, 1),),
        unet_features=True,
        baseline_of=("mildnet",),
    ),
    # MONAI's Attention U-Net; its attention layers nest, each level's decoder conv is the "merge" of its layer
    "attentionunet": NetworkSpec(
        AttentionUNet,
        "Oktay et al., MIDL 2018",
        r"net\.model\.1(\.submodule\.1)*\.merge",
        unet_features=True,
        baseline_of=("msunet",),
    ),
    "unet3d": NetworkSpec(
        CicekUNet,
        "Çiçek et al., MICCAI 2016",
        r"decoder\.\d+",
        (Configuration(3, 4, 1),),  # MultiResUNet's table of models: 19,078,593 parameters
        spatial_dims=(3,),
        baseline_of=("multiresunet",),
    ),
    # every nested node of UNet++ decodes: they all feed the full-resolution output
    "unetplusplus": NetworkSpec(UNetPlusPlus, "Zhou et al., DLMIA 2018", r"net\.upcat_\d_\d", baseline_of=("mildnet",)),
}


def network_name(network: str | type[nn.Module]) -> str | None:
    """Short name of the network with this class or import path (a ``network_def``'s ``_target_``), or None."""
    return next((n for n, s in NETWORKS.items() if network in (s.network, s.target)), None)


def baselines(name: str, spatial_dims: int | None = None) -> list[str]:
    """Short names of the networks that the paper of network ``name`` compares it with; with ``spatial_dims``, only
    those that support it."""
    return [
        n
        for n, spec in NETWORKS.items()
        if name in spec.baseline_of and (spatial_dims is None or spatial_dims in spec.spatial_dims)
    ]
