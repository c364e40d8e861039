"""Validation every ``interval`` epochs and after the last one."""

import pytest
from ignite.engine import Engine, Events
from monai.engines import Evaluator

from custom_networks.handlers import LastEpochValidationHandler


@pytest.mark.parametrize(("max_epochs", "interval", "validated"), [(7, 5, [5, 7]), (10, 5, [5, 10]), (1, 5, [1])])
def test_last_epoch_is_validated(max_epochs, interval, validated):
    evaluator = Evaluator(device="cpu", val_data_loader=[0], iteration_update=lambda engine, batch: batch)
    seen = []
    evaluator.add_event_handler(Events.EPOCH_COMPLETED, lambda engine: seen.append(engine.state.epoch))
    trainer = Engine(lambda engine, batch: batch)
    LastEpochValidationHandler(interval=interval, validator=evaluator).attach(trainer)
    trainer.run([0, 1], max_epochs=max_epochs)
    assert seen == validated
