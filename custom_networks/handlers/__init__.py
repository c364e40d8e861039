"""Ignite handlers for the papers' training schedules and for runs that survive interruption, and output transforms
for per-channel metrics."""

from .bootstrap_switch import BootstrapSwitch
from .channel_output import from_engine_channel
from .checkpoint import AtomicCheckpointSaver, require_checkpoint
from .non_finite import StopOnNonFiniteLoss
from .progress import ProgressBar
from .resume import ResumeTraining, TrainingState, latest_checkpoint
from .validation import LastEpochValidationHandler

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
