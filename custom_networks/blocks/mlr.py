"""Placeholder: being implemented."""

MLRBlock = None
