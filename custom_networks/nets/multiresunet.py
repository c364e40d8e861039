"""Placeholder: being implemented."""

MultiResUNet = None
