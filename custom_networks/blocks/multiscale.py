"""Placeholder: being implemented."""

MultiScaleDownBlock = None
