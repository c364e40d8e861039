"""BatchNorm with the Keras defaults, as in the Keras reference code of MultiResUNet and Res-CR-Net."""

from monai.networks.layers import get_norm_layer
from torch import nn

__all__ = ["KERAS_BATCH_NORM", "keras_batch_norm"]

# MONAI norm type and arguments: Keras momentum 0.99 (the running average's weight) = PyTorch 0.01, eps 1e-3
KERAS_BATCH_NORM = ("batch", {"momentum": 0.01, "eps": 1e-3})


def keras_batch_norm(spatial_dims: int, channels: int, affine: bool = True) -> nn.Module:
    """BatchNorm layer with the Keras defaults (:data:`KERAS_BATCH_NORM`).

    Args:
        spatial_dims: number of spatial dimensions.
        channels: number of normalised channels.
        affine: learn a scale (gamma) and a shift (beta).
    """
    name, args = KERAS_BATCH_NORM
    return get_norm_layer((name, {**args, "affine": affine}), spatial_dims, channels)
