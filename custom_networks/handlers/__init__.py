"""Ignite handlers for the papers' training schedules, and output transforms for per-channel metrics."""

from .bootstrap_switch import BootstrapSwitch
from .channel_output import from_engine_channel
from .progress import ProgressBar

__all__ = ["BootstrapSwitch", "ProgressBar", "from_engine_channel"]
