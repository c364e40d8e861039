"""Atomic checkpoints: a failed or interrupted save never leaves a truncated file or no file at all, and a full disk
is named in one line."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ignite.engine import Engine, Events

from custom_networks.handlers import (
    AtomicCheckpointSaver,
    DiskFullError,
    remove_partial_files,
    require_checkpoint,
    write_atomically,
)
from tests.faults import file_size_limit, small_disk


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
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'model.pt'}: no trained model: train the bundle"):
        require_checkpoint(tmp_path / "model.pt")
    (tmp_path / "model.pt").write_bytes(b"")
    assert require_checkpoint(tmp_path / "model.pt") == str(tmp_path / "model.pt")


class _Big:
    """A checkpoint entry of 400 kB: more than the room the disk-full tests leave."""

    def state_dict(self) -> dict:
        return {"weights": torch.zeros(100_000)}


def _fill_up_at_epoch_2(path: Path) -> str:
    """Train 2 epochs whose epoch-2 last checkpoint does not fit into the room left; checks what is on disk after and
    returns (and prints) the error's message."""
    net = torch.nn.Linear(2, 1)
    saver = _last_saver(path, net)
    engine = Engine(lambda e, b: None)
    saver.attach(engine)

    @engine.on(Events.EPOCH_STARTED)
    def _grow(e: Engine) -> None:
        if e.state.epoch == 2:
            saver.save_dict["big"] = _Big()

    with pytest.raises(DiskFullError) as caught:
        engine.run([0], max_epochs=2)
    assert sorted(p.name for p in path.iterdir()) == ["last_checkpoint_epoch=1.pt"]  # no partial file
    assert set(torch.load(path / "last_checkpoint_epoch=1.pt", weights_only=True)) == {"model", "optimizer"}
    print(caught.value)
    return str(caught.value)


FILL_UP = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from tests.handlers.test_checkpoint import _fill_up_at_epoch_2
_fill_up_at_epoch_2(Path(sys.argv[1]))
"""


def test_full_disk_names_the_file_and_the_intact_previous_checkpoint(tmp_path: Path):
    with small_disk(tmp_path / "disk", 64 * 1024) as disk:
        message = _fill_up_at_epoch_2(disk)
    assert message == (
        f"disk full while saving {disk / 'last_checkpoint_epoch=2.pt'}; the previous checkpoint "
        f"{disk / 'last_checkpoint_epoch=1.pt'} is intact"
    )


def test_file_size_limit_is_named_as_a_full_disk(tmp_path: Path):
    """RLIMIT_FSIZE in a child process (writes past it fail with EFBIG): the same one line."""
    result = subprocess.run(
        [sys.executable, "-c", FILL_UP, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=file_size_limit(64 * 1024),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == (
        f"file size limit reached while saving {tmp_path / 'last_checkpoint_epoch=2.pt'}; the previous checkpoint "
        f"{tmp_path / 'last_checkpoint_epoch=1.pt'} is intact"
    )


def test_write_atomically_leaves_the_old_file_or_the_new_one(tmp_path: Path):
    path = tmp_path / "model.pt"
    write_atomically({"a": torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically({"a": _Unpicklable()}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.ones(2))


def test_remove_partial_files(tmp_path: Path):
    (tmp_path / "last_checkpoint_epoch=3.pt.partial").write_bytes(b"half")
    (tmp_path / "model.pt").write_bytes(b"model")
    assert remove_partial_files(tmp_path) == [tmp_path / "last_checkpoint_epoch=3.pt.partial"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
