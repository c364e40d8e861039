"""Ignite handlers for the papers' training schedules and for runs that survive interruption and mistakes, and output
transforms for per-channel metrics."""

from custom_networks.handlers.bootstrap_switch import BootstrapSwitch
from custom_networks.handlers.channel_output import from_engine_channel
from custom_networks.handlers.checkpoint import (
    AtomicCheckpointSaver,
    AtomicFileSaver,
    interval_checkpoints,
    remove_partial_files,
    require_checkpoint,
    write_atomically,
)
from custom_networks.handlers.ensemble import ensemble_checkpoints, ensemble_networks, member_loaders
from custom_networks.handlers.faults import (
    CheckpointError,
    DiskFullError,
    EarlierRunError,
    FolderInUseError,
    TrainingFault,
    TrainingStopped,
    training_fault,
)
from custom_networks.handlers.guard import TrainingGuard
from custom_networks.handlers.lock import FolderLock
from custom_networks.handlers.non_finite import StopOnNonFiniteLoss
from custom_networks.handlers.progress import ProgressBar
from custom_networks.handlers.resume import ResumeTraining, TrainingState, latest_checkpoint
from custom_networks.handlers.signals import SignalStop, signals_held
from custom_networks.handlers.validation import LastEpochValidationHandler

__all__ = [
    "AtomicCheckpointSaver",
    "AtomicFileSaver",
    "BootstrapSwitch",
    "CheckpointError",
    "DiskFullError",
    "EarlierRunError",
    "FolderInUseError",
    "FolderLock",
    "LastEpochValidationHandler",
    "ProgressBar",
    "ResumeTraining",
    "SignalStop",
    "StopOnNonFiniteLoss",
    "TrainingFault",
    "TrainingGuard",
    "TrainingState",
    "TrainingStopped",
    "ensemble_checkpoints",
    "ensemble_networks",
    "from_engine_channel",
    "interval_checkpoints",
    "latest_checkpoint",
    "member_loaders",
    "remove_partial_files",
    "require_checkpoint",
    "signals_held",
    "training_fault",
    "write_atomically",
]
