"""SIGTERM and SIGINT end a training run cleanly: never in the middle of a checkpoint save, and at the end of the
training iteration in progress."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from custom_networks.handlers.faults import TrainingStopped

__all__ = ["SignalStop", "signals_held"]

logger = logging.getLogger(__name__)

# the SignalStop whose handlers are installed, if any: savers hold its signals while they write
_installed: list[SignalStop] = []


class SignalStop:
    """Handlers of SIGTERM and SIGINT that stop a training run between steps, with nothing half-written.

    A signal raises :class:`TrainingStopped` at once, abandoning what the process was doing (loading data,
    validating: nothing of it is saved), unless the signals are held: inside :func:`signals_held` (a checkpoint
    save) it is raised when the save is complete; between :meth:`hold` and :meth:`release` (a training iteration) it
    is only recorded in :attr:`received`, for the caller to end the run there.

    Args:
        describe: returns the message of :class:`TrainingStopped`, given the signal's name.
        signals: the signals handled.
    """

    def __init__(
        self, describe: Callable[[str], str], signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT)
    ) -> None:
        self.describe = describe
        self.signals = tuple(signals)
        self.received: signal.Signals | None = None
        self._holds = 0
        self._previous: dict[signal.Signals, Any] = {}

    def install(self) -> None:
        """Handle the signals from now on (the previous handlers are kept for :meth:`uninstall`); a no-op outside the
        main thread, where Python cannot set handlers."""
        if threading.current_thread() is not threading.main_thread():
            logger.debug("not in the main thread: SIGTERM and SIGINT keep their handlers")
            return
        for stale in list(reversed(_installed)):  # of an earlier run in this process that failed before its end
            stale.uninstall()
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._handle)
        _installed.append(self)

    def uninstall(self) -> None:
        """Restore the handlers that were there before :meth:`install`."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()
        if self in _installed:
            _installed.remove(self)

    def stopped(self) -> TrainingStopped:
        """The exception that ends the run for the signal received."""
        return TrainingStopped(self.describe(self.received.name if self.received else "?"))

    def hold(self) -> None:
        """Hold the signals: one received from now on is recorded, not raised."""
        self._holds += 1

    def release(self, raise_received: bool = False) -> None:
        """End a :meth:`hold`; with ``raise_received``, raise :class:`TrainingStopped` for a signal received while the
        signals were held."""
        self._holds = max(self._holds - 1, 0)
        if raise_received and self._holds == 0 and self.received is not None:
            raise self.stopped()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signal.Signals(signum)
        if self._holds == 0:
            raise self.stopped()
        logger.warning(f"{self.received.name} received: stopping when the current step is complete")


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT of the installed :class:`SignalStop` (if any) inside the block: a signal received
    there stops the run when the block is complete, never in its middle."""
    stop = _installed[-1] if _installed else None
    if stop is None:
        yield
        return
    stop.hold()
    try:
        yield
    except BaseException:
        stop.release()
        raise
    stop.release(raise_received=True)
