"""Input validation shared by the networks: clear errors instead of shape mismatches deep inside a model."""

import torch

__all__ = ["check_input"]


def check_input(x: torch.Tensor, spatial_dims: int, in_channels: int, multiple: int, network: str) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(B, in_channels, *spatial)`` with spatial sizes divisible by ``multiple``.

    TorchScript-compatible, so it can be called at the top of a network's ``forward``.

    Args:
        x: network input.
        spatial_dims: expected number of spatial dimensions.
        in_channels: expected number of channels.
        multiple: every spatial size must be a positive multiple of this (1 accepts any size).
        network: network name used in the error message.
    """
    if x.dim() != spatial_dims + 2:
        raise ValueError(
            f"{network} expects a {spatial_dims + 2}-D input (batch, channel, {spatial_dims} spatial dims), "
            f"got shape {list(x.shape)}."
        )
    if x.shape[1] != in_channels:
        raise ValueError(f"{network} expects {in_channels} input channels, got {x.shape[1]} (shape {list(x.shape)}).")
    for size in x.shape[2:]:
        if size < multiple or size % multiple != 0:
            raise ValueError(
                f"{network} needs every spatial size to be a multiple of {multiple} for its depth, "
                f"got {list(x.shape[2:])}; pad or crop the input (e.g. monai.transforms.DivisiblePadd(k={multiple}))."
            )
