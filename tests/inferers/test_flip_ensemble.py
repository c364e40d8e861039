"""Test-time flips: the mean of the network's outputs on mirrored inputs, mirrored back."""

import pytest
import torch
from monai.inferers import SimpleInferer, SlidingWindowInferer

from custom_networks.inferers import FlipEnsembleInferer


def _network() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Conv3d(2, 3, 3, padding=1).eval()  # not mirror-symmetric: flips change its output


def test_mean_over_flipped_copies():
    network, x = _network(), torch.rand(1, 2, 8, 7, 6)
    with torch.no_grad():
        expected = (network(x) + network(x.flip(2)).flip(2) + network(x.flip(3, 4)).flip(3, 4)) / 3
        out = FlipEnsembleInferer(SimpleInferer(), flip_axes=[0, [1, 2]])(x, network)
        assert not torch.allclose(network(x), expected, atol=1e-4)
    torch.testing.assert_close(out, expected)


def test_no_flips_is_the_wrapped_inferer():
    network, x = _network(), torch.rand(1, 2, 10, 9, 8)
    window = SlidingWindowInferer(roi_size=(6, 6, 6), overlap=0.5, mode="gaussian")
    with torch.no_grad():
        torch.testing.assert_close(FlipEnsembleInferer(window)(x, network), window(x, network))


def test_flips_of_a_mirror_symmetric_network_change_nothing():
    x = torch.rand(1, 1, 6, 6, 6)
    network = torch.nn.AvgPool3d(3, stride=1, padding=1)  # symmetric kernel
    out = FlipEnsembleInferer(SimpleInferer(), flip_axes=[0, 1, 2])(x, network)
    torch.testing.assert_close(out, network(x))


def test_bad_axes():
    with pytest.raises(ValueError, match="spatial axes >= 0"):
        FlipEnsembleInferer(SimpleInferer(), flip_axes=[-1])
    with pytest.raises(ValueError, match="do not exist in a 2-D input"):
        FlipEnsembleInferer(SimpleInferer(), flip_axes=[2])(torch.rand(1, 1, 4, 4), torch.nn.Identity())
