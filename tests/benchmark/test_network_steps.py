"""network_steps: FLOPs and bytes of a known layer by hand, and the section on Res-CR-Net at the quick size."""

import pytest
import torch

from custom_networks.benchmark.network_steps import network_input, network_steps, step_counts
from custom_networks.benchmark.settings import BenchmarkSettings

CPU = torch.device("cpu")


def test_counts_of_a_convolution():
    batch, cin, cout, size, kernel = 2, 3, 5, 8, 3
    conv = torch.nn.Conv2d(cin, cout, kernel, padding=1)
    x = torch.rand(batch, cin, size, size)
    forward = 2 * batch * cout * size * size * cin * kernel**2  # a multiply and an add per weight and output pixel
    infer = step_counts(conv.eval(), x, train=False)
    assert infer == {
        "flops_infer": forward,
        "bytes_infer": 4 * (x.numel() + conv.weight.numel() + conv.bias.numel() + batch * cout * size * size),
    }
    # the backward pass computes the weight gradient (as many FLOPs again), not the input's: x needs no gradient
    train = step_counts(conv.train(), x, train=True)
    assert train["flops_train"] == 2 * forward and train["bytes_train"] > infer["bytes_infer"]
    assert conv.weight.grad is None  # the counting pass leaves no gradients behind


def test_quick_input_of_a_3d_network():
    network = next(
        n for n in BenchmarkSettings(CPU, True, 1, spatial_dims=(3,)).configurations() if n.name == "MultiResUNet"
    )
    net = network.build()
    assert list(network_input(network, net, CPU, quick=True).shape) == [2, 4, 32, 32, 32]


@pytest.mark.slow
def test_rescrnet_and_its_basicunet():
    ours, basic = network_steps(
        BenchmarkSettings(CPU, quick=True, repeats=1, spatial_dims=(2,), networks=("ResCRNet",))
    )
    assert ours["network"] == "ResCRNet 2-D 3→4" and basic["network"] == "BasicUNet (MONAI) for ResCRNet 2-D 3→4"
    assert ours["input"] == basic["input"] == [2, 3, 32, 32]  # quick: batch 2 at 32², Res-CR-Net takes any size
    # one ConvLSTM step per row (and column) position, for all four scans and the whole batch: not one per pixel
    assert ours["scan_steps"] == 32 and "scan_steps" not in basic
    for row in (ours, basic):
        assert row["section"] == "network_steps" and row["params"] > 0
        assert row["flops_train"] > row["flops_infer"] > 0
        # every step at least reads its input and writes its output; training moves more than inference
        assert row["bytes_train"] > row["bytes_infer"] > 2 * 4 * 2 * 3 * 32 * 32
        assert row["train_s"] > 0 and row["infer_s"] > 0 and row["train_peak_mib"] > 0
    assert ours["params"] < basic["params"]  # Res-CR-Net: 59 thousand parameters, the 32…512 BasicUNet millions
    assert ours["train_vs_basicunet"] > 0 and "train_vs_basicunet" not in basic
