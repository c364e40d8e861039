"""The training guard's pieces on their own: the folder lock (a live holder named, a stale one taken over), the
earlier-run check and start over, the removal of unfinished saves, the signal handling and the one-line faults."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ignite.engine import Engine

from custom_networks.handlers import (
    DiskFullError,
    EarlierRunError,
    FolderInUseError,
    FolderLock,
    SignalStop,
    TrainingFault,
    TrainingGuard,
    TrainingStopped,
    signals_held,
)

HOLD_LOCK = """
import fcntl, json, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps({"pid": os.getpid(), "host": "here", "started": time.time(), "command": "train"}).encode())
print("locked", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path: Path):
    """A live process holding ``tmp_path/training.lock`` (as a training would); killed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / "training.lock")], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait()
    process.stdout.close()


def test_lock_names_the_live_holder_and_takes_over_a_stale_one(tmp_path: Path, holder, caplog):
    lock = FolderLock(tmp_path)
    with pytest.raises(FolderInUseError, match=rf"{tmp_path} is in use by another training \(process {holder.pid} "):
        lock.acquire()
    holder.kill()  # SIGKILL: the kernel drops the lock, the file stays
    holder.wait()
    with caplog.at_level(logging.WARNING):
        lock.acquire()
    assert f"taking over the lock of process {holder.pid}" in caplog.text
    assert json.loads((tmp_path / "training.lock").read_text())["pid"] == os.getpid()
    lock.release()
    assert not (tmp_path / "training.lock").exists()


def test_lock_left_by_an_earlier_run_of_this_process_is_released(tmp_path: Path):
    FolderLock(tmp_path).acquire()  # a run that failed without releasing
    lock = FolderLock(tmp_path)
    lock.acquire()
    lock.release()


def _earlier_run(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("model.pt", "last_checkpoint_epoch=3.pt", "last_checkpoint_epoch=4.pt"):
        (folder / name).write_bytes(name.encode())


def _claim_error(guard: TrainingGuard) -> BaseException:
    with pytest.raises(SystemExit) as caught:
        guard.claim()
    assert str(caught.value) == f"error: {caught.value.__cause__}"
    return caught.value.__cause__


def test_earlier_run_is_refused_naming_its_files_and_the_ways_on(tmp_path: Path):
    _earlier_run(tmp_path)
    error = _claim_error(TrainingGuard(tmp_path))
    assert isinstance(error, EarlierRunError)
    assert str(error) == (
        f"{tmp_path} already holds a training run (model.pt, last_checkpoint_epoch=3.pt, last_checkpoint_epoch=4.pt): "
        f"continue it with --resume True, or start over with --start_over True (its files are kept in "
        f"{tmp_path / 'previous_<time>'})"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "last_checkpoint_epoch=3.pt",
        "last_checkpoint_epoch=4.pt",
        "model.pt",
    ]


def test_resume_without_last_checkpoint_and_contradicting_switches_are_refused(tmp_path: Path):
    (tmp_path / "model.pt").write_bytes(b"model")
    error = _claim_error(TrainingGuard(tmp_path, resume=True))
    assert isinstance(error, EarlierRunError) and str(error).startswith(
        f"nothing to resume in {tmp_path}: it holds model.pt"
    )
    error = _claim_error(TrainingGuard(tmp_path, resume=True, start_over=True))
    assert type(error) is TrainingFault and "contradict" in str(error)


def test_start_over_moves_the_earlier_run_aside_and_keeps_the_best_model(tmp_path: Path):
    _earlier_run(tmp_path)
    (tmp_path / "last_checkpoint_epoch=5.pt.partial").write_bytes(b"half")
    guard = TrainingGuard(tmp_path, start_over=True)
    guard.claim()
    try:
        (aside,) = tmp_path.glob("previous_*")
        assert sorted(p.name for p in aside.iterdir()) == [
            "last_checkpoint_epoch=3.pt",
            "last_checkpoint_epoch=4.pt",
            "model.pt",
        ]
        assert (aside / "model.pt").read_bytes() == (tmp_path / "model.pt").read_bytes() == b"model.pt"
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([aside.name, "model.pt", "training.lock"])
    finally:
        guard.release()
    assert not (tmp_path / "training.lock").exists()


def test_resume_removes_unfinished_saves(tmp_path: Path):
    _earlier_run(tmp_path)
    (tmp_path / "last_checkpoint_epoch=5.pt.partial").write_bytes(b"half")
    guard = TrainingGuard(tmp_path, resume=True)
    guard.claim()
    guard.release()
    assert not list(tmp_path.glob("*.partial")) and len(list(tmp_path.glob("*.pt"))) == 3


def test_signals_stop_at_once_or_after_what_holds_them():
    stop = SignalStop(lambda name: f"stopped by {name}")
    stop.install()
    try:
        with pytest.raises(TrainingStopped, match="stopped by SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)
        done = []
        with pytest.raises(TrainingStopped, match="stopped by SIGINT"), signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("save complete")
        assert done == ["save complete"]
    finally:
        stop.uninstall()
    assert signal.getsignal(signal.SIGINT) is not stop._handle


class _Trainer(Engine):
    """An Ignite engine run as MONAI's trainers are, without arguments: 4 iterations, 1 epoch."""

    def run(self) -> None:
        super().run([0, 1, 2, 3], max_epochs=1)


def test_guard_run_ends_a_signalled_run_after_its_iteration(tmp_path: Path):
    iterations = []

    def step(engine: Engine, batch: int) -> None:
        iterations.append(engine.state.iteration)
        if engine.state.iteration == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    guard = TrainingGuard(tmp_path)
    guard.claim()
    with pytest.raises(TrainingStopped) as caught:
        guard.run(_Trainer(step))
    assert iterations == [1, 2]
    assert str(caught.value) == (
        "stopped by signal SIGTERM in epoch 1 of 1 (the checkpoints of the completed epochs are kept): resume with "
        "--resume True"
    )
    assert not (tmp_path / "training.lock").exists()


def test_guard_run_ends_a_fault_with_one_line(tmp_path: Path):
    """A fault deep in the chain of what Ignite and MONAI raise is the last line, prefixed with "error: "."""

    def save(engine: Engine, batch: int) -> None:
        full = DiskFullError(tmp_path / "last_checkpoint_epoch=2.pt", 28, tmp_path / "last_checkpoint_epoch=1.pt")
        raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos") from full

    guard = TrainingGuard(tmp_path)
    guard.claim()
    with pytest.raises(SystemExit) as caught:
        guard.run(_Trainer(save))
    assert str(caught.value) == (
        f"error: disk full while saving {tmp_path / 'last_checkpoint_epoch=2.pt'}; the previous checkpoint "
        f"{tmp_path / 'last_checkpoint_epoch=1.pt'} is intact"
    )
    assert not (tmp_path / "training.lock").exists()


def test_guard_run_passes_other_errors_on(tmp_path: Path):
    def broken(engine: Engine, batch: int) -> None:
        raise ValueError("not a fault of the run")

    guard = TrainingGuard(tmp_path)
    guard.claim()
    with pytest.raises(ValueError, match="not a fault of the run"):
        guard.run(_Trainer(broken))
    assert not (tmp_path / "training.lock").exists()
