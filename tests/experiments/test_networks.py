"""Networks by short name: the ``network_def`` that swaps each into a bundle builds that network with the bundle's
channels, and U-Net-style widths follow the bundle's ``features``."""

from __future__ import annotations

import pydoc

import pytest
import torch
from monai.bundle import ConfigParser

from custom_networks.experiments import network_def
from custom_networks.experiments.networks import bundle_network
from custom_networks.nets.registry import NETWORKS
from custom_networks.zoo import bundle_names, bundles_root


def _parser(bundle: str, **overrides) -> ConfigParser:
    parser = ConfigParser()
    parser.read_config(str(bundles_root() / bundle / "configs" / "train.json"))
    parser.update(overrides)
    return parser


@pytest.mark.parametrize("bundle", bundle_names())
def test_every_bundle_network_is_comparable(bundle):
    assert bundle_network(_parser(bundle)) in NETWORKS


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_swapped_network_builds_with_the_bundle_channels(name):
    parser = _parser("mildnet_dsb2018_nuclei", features=[4, 8, 16])
    if name == "unet3d":
        with pytest.raises(ValueError, match="unet3d is 3-D only; the bundle is 2-D"):
            network_def(name, parser)
        return
    override = network_def(name, parser)
    if name == "mildnet":  # the bundle's own: its network_def stays as it is
        assert override is None
        return
    assert override["in_channels"] == 3 and override["out_channels"] == 1
    assert ("spatial_dims" in override) == (name != "rescrnet")
    assert ("features" in override) == (
        name in ("unet", "unet_mlr", "residualunet", "resdunet", "attentionunet", "multiresunet")
    )
    assert override.get("mlr_skips", False) == (name == "unet_mlr")
    parser.update({"network_def": override})
    network = parser.get_parsed_content("network_def")
    assert type(network) is pydoc.locate(NETWORKS[name].target)
    size = getattr(network, "multiple", 1) * (2 if name != "msunet" else 1)
    with torch.no_grad():
        assert network.eval()(torch.zeros(1, 3, size, size)).shape == (1, 1, size, size)
    if name == "unet_mlr":  # the MILDNet paper's ablation: U-Net with MLR skips
        assert all(type(skip).__name__ == "MLRBlock" for skip in network.skips)


def test_features_follow_only_between_unet_style_networks():
    multires = _parser("multiresunet_murphy_nuclei")
    assert network_def("mildnet", multires)["features"] == "@features"
    assert network_def("unetplusplus", multires).keys() == {"_target_", "spatial_dims", "in_channels", "out_channels"}
    assert "features" not in network_def("unet", _parser("msunet_lymphnode_histology"))  # MS U-Net's widths differ
    assert "features" not in network_def("unet", _parser("rescrnet_em_organelles"))


def test_3d_bundle_and_errors():
    brats = _parser("mildnet3d_brats_mri")
    assert network_def("unet", brats) == {
        "_target_": "custom_networks.nets.UNet",
        "spatial_dims": 3,
        "in_channels": 4,
        "out_channels": 3,
        "features": "@features",
    }
    cicek = {"_target_": "custom_networks.nets.CicekUNet", "spatial_dims": 3, "in_channels": 4, "out_channels": 3}
    assert network_def("unet3d", brats) == cicek  # its own widths: they double before each pooling
    with pytest.raises(ValueError, match="rescrnet is 2-D only"):
        network_def("rescrnet", brats)
    with pytest.raises(ValueError, match="unknown network 'segnet'"):
        network_def("segnet", brats)
