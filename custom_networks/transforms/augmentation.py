"""Placeholder: being implemented."""

Albumentationsd = None
