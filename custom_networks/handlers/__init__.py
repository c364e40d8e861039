"""Ignite handlers for the papers' training schedules."""

from .bootstrap_switch import BootstrapSwitch

__all__ = ["BootstrapSwitch"]
