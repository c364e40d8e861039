"""MONAI's UNet++ wrapped as a single-output baseline network."""

import pytest
import torch

from custom_networks.nets import UNetPlusPlus
from tests.nets.checks import assert_loss_falls, assert_torchscript_roundtrip

FEATURES = (4, 4, 8, 8, 16, 4)


@pytest.mark.parametrize(("spatial_dims", "size"), [(2, (32, 48)), (3, (16, 16, 32))])
def test_returns_one_logit_tensor(spatial_dims, size):
    out = UNetPlusPlus(spatial_dims, 2, 3, features=FEATURES)(torch.rand(2, 2, *size))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 3, *size)


def test_bad_size_names_the_multiple():
    with pytest.raises(ValueError, match="multiple of 16"):
        UNetPlusPlus(2, 1, 1, features=FEATURES)(torch.rand(1, 1, 40, 32))


def test_trains_and_scripts(tmp_path):
    torch.manual_seed(0)
    x = torch.rand(2, 1, 32, 32)
    assert_loss_falls(UNetPlusPlus(2, 1, 1, features=FEATURES), x, (x > 0.5).float(), steps=20)
    assert_torchscript_roundtrip(UNetPlusPlus(2, 1, 1, features=FEATURES), x, tmp_path)


def test_default_widths_are_the_papers():
    """32 … 512 doubling over five levels, as MILDNet's paper compares UNet++ (not MONAI's 32, 32, 64, 128, 256)."""
    widths = [m.out_channels for m in UNetPlusPlus(2, 3, 1).modules() if isinstance(m, torch.nn.Conv2d)]
    assert widths[0] == 32 and max(widths) == 512
