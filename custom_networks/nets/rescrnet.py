"""Placeholder: being implemented."""

ResCRNet = None
