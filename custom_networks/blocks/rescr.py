"""Placeholder: being implemented."""

ConvResBlock = None
ConvLSTMResBlock = None
