"""The run settings: the networks chosen by class name and rank, the options refused with a clear message."""

import pytest
import torch

from custom_networks.benchmark.settings import BenchmarkSettings, run_settings

CPU = torch.device("cpu")


def _labels(run: BenchmarkSettings) -> list[str]:
    return [network.label for network in run.configurations()]


def test_networks_by_class_name_and_rank_2d_first():
    assert _labels(BenchmarkSettings(CPU, True, 1, spatial_dims=(3,), networks=("MultiResUNet",))) == [
        "MultiResUNet 3-D 4→1",
        "MultiResUNet 3-D 4→3",
    ]
    assert _labels(BenchmarkSettings(CPU, True, 1, networks=("MILDNet",))) == [
        "MILDNet 2-D 3→1",
        "MILDNet 3-D 4→3",
        "MILDNet 3-D 4→3 16…256",
    ]
    assert _labels(BenchmarkSettings(CPU, True, 1, spatial_dims=(2,))) == [
        "MILDNet 2-D 3→1",
        "MultiResUNet 2-D 3→1",
        "MSUNet 2-D 3→2",
        "ResCRNet 2-D 3→4",
        "UNet 2-D 1→1",
        "ResidualUNet 2-D 1→1",
        "ResDUnet 2-D 3→1",
    ]


def test_defaults():
    assert run_settings(quick=True) == BenchmarkSettings(CPU, True, 1, (), (2,), ())
    assert run_settings() == BenchmarkSettings(CPU, False, 3, ("MILDNet",), (2, 3), ())
    run = run_settings(compile="none", spatial_dims=(3, 2), networks="ResCRNet, MSUNet", repeats=2)
    assert run == BenchmarkSettings(CPU, False, 2, (), (2, 3), ("ResCRNet", "MSUNet"))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"networks": "ResCRNet,HAL9000"}, "HAL9000"),
        ({"device": "tpu"}, "--device"),
        ({"repeats": 0}, "--repeats"),
        ({"spatial_dims": 4}, "--spatial_dims"),
    ],
)
def test_refused(options, message):
    with pytest.raises(ValueError, match=message):
        run_settings(**options)
