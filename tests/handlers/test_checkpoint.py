"""Atomic checkpoints: a failed or interrupted save never leaves a truncated file or no file at all."""

from pathlib import Path

import pytest
import torch
from ignite.engine import Engine, Events

from custom_networks.handlers import AtomicCheckpointSaver, require_checkpoint


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("disk full")


class _BrokenEntry:
    """A checkpoint entry whose serialisation fails halfway through writing the file (a crash mid-write)."""

    def state_dict(self) -> dict:
        return {"weights": torch.zeros(1000), "later": _Unpicklable()}


def _last_saver(path: Path, net: torch.nn.Module) -> AtomicCheckpointSaver:
    """A last-checkpoint saver as in the bundles: every epoch, keeping one file."""
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    return AtomicCheckpointSaver(
        path, {"model": net, "optimizer": optimizer}, file_prefix="last", save_interval=1, n_saved=1
    )


def _trainer(saver: AtomicCheckpointSaver, fail_at: int | None = None) -> Engine:
    engine = Engine(lambda e, b: None)
    saver.attach(engine)
    if fail_at is not None:

        @engine.on(Events.EPOCH_STARTED)
        def _break_next_save(e: Engine) -> None:
            if e.state.epoch == fail_at:
                saver.save_dict["broken"] = _BrokenEntry()  # pickling it raises during the write

    return engine


def test_interval_checkpoint_replaced_only_after_its_successor_is_written(tmp_path: Path):
    net = torch.nn.Linear(2, 1)
    saver = _last_saver(tmp_path, net)
    with pytest.raises(RuntimeError, match="disk full"):
        _trainer(saver, fail_at=3).run([0, 1], max_epochs=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_checkpoint_epoch=2.pt"]  # no temporary file left
    state = torch.load(tmp_path / "last_checkpoint_epoch=2.pt", weights_only=True)
    torch.testing.assert_close(state["model"]["weight"], net.weight.detach())


def test_fixed_name_best_model_is_never_deleted_first(tmp_path: Path):
    net = torch.nn.Linear(2, 1)
    scores = iter([0.1, 0.5, 0.9])
    saver = AtomicCheckpointSaver(
        tmp_path,
        {"model": net, "optimizer": torch.optim.SGD(net.parameters(), lr=0.1)},
        save_key_metric=True,
        key_metric_name="dice",
        key_metric_filename="model.pt",
    )
    engine = Engine(lambda e, b: None)

    @engine.on(Events.EPOCH_COMPLETED)
    def _score(e: Engine) -> None:
        e.state.metrics["dice"] = next(scores)
        if e.state.epoch == 3:
            saver.save_dict["broken"] = _BrokenEntry()

    saver.attach(engine)
    with pytest.raises(RuntimeError, match="disk full"):
        engine.run([0], max_epochs=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    assert set(torch.load(tmp_path / "model.pt", weights_only=True)) == {"model", "optimizer"}


def test_state_dict_round_trip_lets_a_new_saver_replace_old_files(tmp_path: Path):
    net = torch.nn.Linear(2, 1)
    first = _last_saver(tmp_path, net)
    _trainer(first).run([0], max_epochs=2)
    state = first.state_dict()
    assert state["interval"] == [(2, "last_checkpoint_epoch=2.pt")] and state["key_metric"] == []

    second = _last_saver(tmp_path, net)
    second.load_state_dict(state)
    engine = Engine(lambda e, b: None)
    engine.state.epoch = 2
    second.attach(engine)
    engine.state.max_epochs = 3
    engine.fire_event(Events.EPOCH_COMPLETED)  # the saver reads the epoch from the engine
    engine.state.epoch = 3
    engine.fire_event(Events.EPOCH_COMPLETED)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_checkpoint_epoch=3.pt"]


def test_require_checkpoint_names_the_missing_model(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=f"no trained model at {tmp_path / 'model.pt'}: train the bundle"):
        require_checkpoint(tmp_path / "model.pt")
    (tmp_path / "model.pt").write_bytes(b"")
    assert require_checkpoint(tmp_path / "model.pt") == str(tmp_path / "model.pt")
