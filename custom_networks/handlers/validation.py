"""Validation that also covers the last epoch of a run, so short runs still select and save a best model."""

from __future__ import annotations

from ignite.engine import Engine, Events
from monai.engines import Evaluator
from monai.handlers import ValidationHandler

__all__ = ["LastEpochValidationHandler"]


class LastEpochValidationHandler(ValidationHandler):
    """MONAI's epoch-level ``ValidationHandler`` that also validates when training ends on an epoch that is not a
    multiple of ``interval``.

    With ``interval`` 5, a run of 7 epochs is validated after epochs 5 and 7, and a 1-epoch run (as MONAI Label's
    annotation-time training asks for) after epoch 1, so its best-model checkpoint is written. Arguments as
    ``monai.handlers.ValidationHandler``; iteration-level validation is not supported.
    """

    def __init__(self, interval: int, validator: Evaluator | None = None, exec_at_start: bool = False) -> None:
        super().__init__(interval=interval, validator=validator, epoch_level=True, exec_at_start=exec_at_start)

    def attach(self, engine: Engine) -> None:
        super().attach(engine)
        engine.add_event_handler(Events.COMPLETED, self._validate_last_epoch)

    def _validate_last_epoch(self, engine: Engine) -> None:
        if engine.state.epoch % self.interval != 0:
            self(engine)
