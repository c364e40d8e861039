"""Ignite handlers for the papers' training schedules."""

from .bootstrap_switch import BootstrapSwitch
from .progress import ProgressBar

__all__ = ["BootstrapSwitch", "ProgressBar"]
