"""Placeholder: being implemented."""

MLDRBlock = None
