"""Resume pieces: the latest checkpoint by epoch, the training state round trip, the non-finite loss stop."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from ignite.engine import Engine
from ignite.handlers import EarlyStopping

from custom_networks.handlers import StopOnNonFiniteLoss, TrainingState, latest_checkpoint


def test_latest_checkpoint_by_epoch_number(tmp_path: Path):
    assert latest_checkpoint(tmp_path) is None
    for name in ("last_checkpoint_epoch=9.pt", "last_checkpoint_epoch=10.pt", "model.pt", "last_other=99.pt"):
        (tmp_path / name).touch()
    assert latest_checkpoint(tmp_path).name == "last_checkpoint_epoch=10.pt"


def test_training_state_round_trip(tmp_path: Path):
    evaluator, trainer = Engine(lambda e, b: None), Engine(lambda e, b: None)
    evaluator.state.best_metric, evaluator.state.best_metric_epoch = 0.7, 3
    early_stop = EarlyStopping(patience=5, score_function=lambda e: 0.0, trainer=trainer)
    early_stop.load_state_dict({**early_stop.state_dict(), "counter": 2, "best_score": 0.7})
    state = TrainingState(evaluator, early_stop)
    torch.manual_seed(1)
    torch.save(state.state_dict(), tmp_path / "state.pt")
    draws = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002

    evaluator.state.best_metric = -1
    early_stop.load_state_dict({**early_stop.state_dict(), "counter": 0, "best_score": None})
    torch.rand(5), np.random.rand(7), random.random()  # noqa: NPY002
    state.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))  # plain types and tensors only
    assert (evaluator.state.best_metric, evaluator.state.best_metric_epoch) == (0.7, 3)
    assert (early_stop.counter, early_stop.best_score) == (2, 0.7)
    assert torch.equal(torch.rand(3), draws[0])
    assert np.array_equal(np.random.rand(3), draws[1]) and random.random() == draws[2]  # noqa: NPY002


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_loss_names_epoch_and_iteration(bad):
    losses = iter([1.0, 0.5, 0.4, bad, 0.3])
    engine = Engine(lambda e, b: [{"loss": torch.tensor(next(losses))}])  # decollated, as in the bundles
    StopOnNonFiniteLoss().attach(engine)
    with pytest.raises(FloatingPointError, match=rf"loss is {bad} at epoch 2, iteration 1 of 3 \(global iteration 4\)"):
        engine.run([0, 1, 2], max_epochs=3)
    assert engine.state.iteration == 4
