"""Placeholder: being implemented."""

UNet = None
ResidualUNet = None
