"""A user's mistake or bad input ends a command with one line, ``error: <file>: <problem>``, not a traceback.

MONAI wraps what a config expression raises (``Failed to evaluate ConfigExpression …``) and Ignite what a handler
raises, so the line comes from the exception chain: its outermost :class:`UserError`, or the ``OSError`` of a file
that is missing or cannot be read. Anything else is a fault of the code and keeps its traceback, as does every
error when the environment variable ``CUSTOM_NETWORKS_DEBUG`` is set (to anything but ``0`` or empty).

The scripts run inside :func:`errors_in_one_line`; the bundles call :func:`report_errors_in_one_line` first when they
initialise, which does the same for ``python -m monai.bundle`` (and nothing in a process that only loads a bundle,
e.g. a MONAI Label server).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

__all__ = [
    "DEBUG_VARIABLE",
    "BadValueError",
    "MissingFileError",
    "UserError",
    "error_line",
    "exception_chain",
    "is_bundle_command",
    "errors_in_one_line",
    "report_errors_in_one_line",
    "user_error",
]

DEBUG_VARIABLE = "CUSTOM_NETWORKS_DEBUG"
# the errors of a file or folder the user named: reported with the file's name, as the system says it
FILE_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


class UserError(Exception):
    """A mistake of the user or bad input; its message is one line naming the file or value and the problem."""


class BadValueError(UserError, ValueError):
    """An option, name or input that cannot be used (an unknown bundle, network or split, an empty split)."""


class MissingFileError(UserError, FileNotFoundError):
    """A file or folder that is not where the user said (no prepared dataset, no trained model)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the exceptions it was raised from or while handling, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        yield current
        current = current.__cause__ or current.__context__


def user_error(error: BaseException) -> BaseException | None:
    """The user's mistake behind ``error``: the outermost :class:`UserError` of its chain, else the outermost
    ``OSError`` of a missing or unreadable file; None for anything else."""
    chain = list(exception_chain(error))
    return next((e for e in chain if isinstance(e, UserError)), None) or next(
        (e for e in chain if isinstance(e, FILE_ERRORS) and not isinstance(e, UserError)), None
    )


def error_line(error: BaseException) -> str:
    """``error: <message>`` on one line (a system error as ``<file>: <reason>``)."""
    if isinstance(error, OSError) and not isinstance(error, UserError) and error.filename is not None:
        message = f"{error.filename}: {error.strerror or error}"
    else:
        message = str(error)
    return "error: " + " ".join(message.split())


def _debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


@contextmanager
def errors_in_one_line() -> Iterator[None]:
    """Run a command's body; a user's mistake ends the process with exit status 1 and :func:`error_line` on stderr.

    Raises:
        SystemExit: status 1 after a user's mistake.
    """
    try:
        yield
    except Exception as error:
        found = None if _debugging() else user_error(error)
        if found is None:
            raise
        print(error_line(found), file=sys.stderr)
        raise SystemExit(1) from None


def _excepthook(kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
    found = None if _debugging() else user_error(error)
    if found is None:
        sys.__excepthook__(kind, error, traceback)
    else:
        print(error_line(found), file=sys.stderr)
        # MONAI's CacheDataset goes on caching the next items in a worker thread after one fails; a thread still in
        # torch while the interpreter finalises aborts the process ("terminate called without an active exception")
        # after the line above. Nothing is left to run: flush the logs and exit with status 1 now.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


def is_bundle_command() -> bool:
    """This process is ``python -m monai.bundle …`` (not a server or notebook that loads a bundle)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec is not None and spec.name == "monai.bundle.__main__"


def report_errors_in_one_line() -> None:
    """In a ``python -m monai.bundle`` process, end an uncaught user's mistake with :func:`error_line` (exit status
    1) instead of its traceback; elsewhere nothing changes."""
    if is_bundle_command():
        sys.excepthook = _excepthook
