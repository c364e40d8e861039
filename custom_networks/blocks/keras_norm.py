"""BatchNorm with the Keras defaults, as in the Keras reference code of MultiResUNet and Res-CR-Net."""

from monai.networks.layers import get_norm_layer
from torch import nn

__all__ = ["KERAS_BATCH_NORM", "norm_layer"]

# MONAI norm type and arguments: Keras momentum 0.99 (the running average's weight) = PyTorch 0.01, eps 1e-3
KERAS_BATCH_NORM = ("batch", {"momentum": 0.01, "eps": 1e-3})


def norm_layer(
    spatial_dims: int, channels: int, affine: bool = True, norm: str | tuple = KERAS_BATCH_NORM
) -> nn.Module:
    """Normalisation layer ``norm`` (MONAI's norm type and arguments; default BatchNorm with the Keras defaults,
    :data:`KERAS_BATCH_NORM`) with or without a learnt scale and shift.

    Args:
        spatial_dims: number of spatial dimensions.
        channels: number of normalised channels.
        affine: learn a scale (gamma) and a shift (beta).
        norm: feature normalisation type and arguments.
    """
    name, args = (norm, {}) if isinstance(norm, str) else norm
    return get_norm_layer((name, {**args, "affine": affine}), spatial_dims, channels)
