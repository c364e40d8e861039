"""Placeholder: being implemented."""

MultiResBlock = None
