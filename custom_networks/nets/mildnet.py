"""Placeholder: being implemented."""

MILDNet = None
