"""Resume pieces: the latest checkpoint by epoch, the training state round trip, the non-finite loss stop, and the
choice of the checkpoint to resume by what it records (corrupt, other-run and unfitting checkpoints)."""

import logging
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from ignite.engine import Engine
from ignite.handlers import EarlyStopping

from custom_networks.handlers import (
    AtomicCheckpointSaver,
    CheckpointError,
    ResumeTraining,
    StopOnNonFiniteLoss,
    TrainingState,
    latest_checkpoint,
)
from custom_networks.handlers.resume import settings_differences


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


def _training(folder: Path, network: torch.nn.Module, settings: dict | None = None) -> tuple[Engine, dict]:
    """A trainer that saves its last checkpoints (two kept) as the bundles do, and its save dict."""
    trainer = Engine(lambda e, b: None)
    state = TrainingState(settings=settings or {"features": [2]})
    save_dict = {"model": network, "optimizer": torch.optim.SGD(network.parameters(), lr=0.1), "trainer": trainer}
    save_dict["training_state"] = state
    saver = AtomicCheckpointSaver(folder, save_dict, file_prefix="last", save_interval=1, n_saved=2)
    saver.attach(trainer)
    return trainer, {**save_dict, "saver": saver}


def _resume(folder: Path, network: torch.nn.Module, settings: dict | None = None, epochs: int = 5) -> Engine:
    trainer, objects = _training(folder, network, settings)
    saver = objects.pop("saver")
    ResumeTraining(folder, {**objects, "trainer": trainer}, saver=saver).attach(trainer)
    trainer.run([0, 1], max_epochs=epochs)
    return trainer


@pytest.fixture
def three_epochs(tmp_path: Path) -> Path:
    """``last_checkpoint_epoch=2.pt`` and ``=3.pt`` of a run of 3 epochs."""
    trainer, _ = _training(tmp_path, torch.nn.Linear(2, 1))
    trainer.run([0, 1], max_epochs=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_checkpoint_epoch=2.pt", "last_checkpoint_epoch=3.pt"]
    return tmp_path


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def test_corrupt_newest_checkpoint_falls_back_to_the_one_before(three_epochs: Path, caplog):
    newest, before = three_epochs / "last_checkpoint_epoch=3.pt", three_epochs / "last_checkpoint_epoch=2.pt"
    _truncate(newest)
    with caplog.at_level(logging.INFO):
        trainer = _resume(three_epochs, torch.nn.Linear(2, 1))
    assert f"{newest} is corrupt (RuntimeError: PytorchStreamReader failed reading zip archive" in caplog.text
    assert f"): resuming from {before}" in caplog.text and f"resumed from {before}: epoch 2 of 5" in caplog.text
    assert trainer.state.epoch == 5
    assert sorted(p.name for p in three_epochs.iterdir()) == [
        "last_checkpoint_epoch=4.pt",
        "last_checkpoint_epoch=5.pt",
    ]


def test_no_loadable_checkpoint_names_each_corrupt_file(three_epochs: Path):
    for path in three_epochs.iterdir():
        _truncate(path)
    with pytest.raises(CheckpointError) as caught:
        _resume(three_epochs, torch.nn.Linear(2, 1))
    message = str(caught.value)
    assert message.startswith(f"cannot resume: {three_epochs / 'last_checkpoint_epoch=2.pt'} is corrupt (RuntimeError:")
    assert f"; {three_epochs / 'last_checkpoint_epoch=3.pt'} is corrupt (" in message
    assert message.endswith("; start over with --start_over True") and "\n" not in message


def test_resume_continues_the_newest_run_whatever_the_file_names(three_epochs: Path, caplog):
    """A checkpoint of another run with a higher epoch in its name but an older save is not the run's."""
    other = torch.load(three_epochs / "last_checkpoint_epoch=3.pt", weights_only=True)
    other["training_state"] = {**other["training_state"], "run_id": "another run", "saved_at": 0.0}
    torch.save(other, three_epochs / "last_checkpoint_epoch=9.pt")
    with caplog.at_level(logging.INFO):
        _resume(three_epochs, torch.nn.Linear(2, 1))
    assert f"{three_epochs / 'last_checkpoint_epoch=9.pt'} is of another training run" in caplog.text
    assert f"resumed from {three_epochs / 'last_checkpoint_epoch=3.pt'}: epoch 3 of 5" in caplog.text
    names = sorted(p.name for p in three_epochs.iterdir())
    assert names == ["last_checkpoint_epoch=4.pt", "last_checkpoint_epoch=5.pt", "last_checkpoint_epoch=9.pt"]


def test_checkpoint_that_does_not_fit_names_the_settings_that_differ(three_epochs: Path):
    with pytest.raises(CheckpointError) as caught:
        _resume(three_epochs, torch.nn.Linear(3, 1), settings={"features": [3]})
    assert str(caught.value) == (
        f"{three_epochs / 'last_checkpoint_epoch=3.pt'} does not fit this run: the settings differ from the run that "
        "wrote it (features: [2] then, [3] now); resume with that run's settings or start over with --start_over True"
    )
    with pytest.raises(
        CheckpointError,
        match=r"fit this run: model: 1 tensors of other shapes \(e.g. weight: \[1, 2\] there, \[1, 3\] here\);",
    ):
        _resume(three_epochs, torch.nn.Linear(3, 1))  # the same settings: the tensors are named


def test_settings_differences_ignore_the_run_switches():
    before = {"features": [2], "resume": False, "bundle_root": "/a", "lr": 0.1, "max_epochs": 2}
    now = {"features": [2], "resume": True, "bundle_root": "a", "lr": 0.2, "new": 1, "max_epochs": 5}
    assert settings_differences(before, now) == ["lr: 0.1 then, 0.2 now", "new: unset then, 1 now"]
