"""Placeholder: being implemented."""

ResPath = None
