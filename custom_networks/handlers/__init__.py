"""Ignite handlers for the papers' training schedules and for runs that survive interruption, and output transforms
for per-channel metrics."""

from custom_networks.handlers.bootstrap_switch import BootstrapSwitch
from custom_networks.handlers.channel_output import from_engine_channel
from custom_networks.handlers.checkpoint import AtomicCheckpointSaver, require_checkpoint
from custom_networks.handlers.non_finite import StopOnNonFiniteLoss
from custom_networks.handlers.progress import ProgressBar
from custom_networks.handlers.resume import ResumeTraining, TrainingState, latest_checkpoint
from custom_networks.handlers.validation import LastEpochValidationHandler

__all__ = [
    "AtomicCheckpointSaver",
    "BootstrapSwitch",
    "LastEpochValidationHandler",
    "ProgressBar",
    "ResumeTraining",
    "StopOnNonFiniteLoss",
    "TrainingState",
    "from_engine_channel",
    "latest_checkpoint",
    "require_checkpoint",
]
