"""Keras-default BatchNorm: the layer factory and the MONAI norm argument build the same layer."""

import pytest
from monai.networks.blocks import ADN
from torch import nn

from custom_networks.blocks.keras_norm import KERAS_BATCH_NORM, norm_layer

BATCH_NORMS = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("spatial_dims", [1, 2, 3])
def test_keras_defaults(spatial_dims, affine):
    norm = norm_layer(spatial_dims, 5, affine=affine)
    assert type(norm) is BATCH_NORMS[spatial_dims]
    assert (norm.num_features, norm.affine) == (5, affine)
    assert norm.momentum == pytest.approx(0.01) and norm.eps == pytest.approx(1e-3)


def test_monai_norm_argument_builds_the_same_layer():
    adn = ADN("N", 5, norm=KERAS_BATCH_NORM, norm_dim=2)
    assert repr(adn.N) == repr(norm_layer(2, 5))
