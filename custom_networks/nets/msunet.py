"""Placeholder: being implemented."""

MSUNet = None
