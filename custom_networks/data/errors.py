"""The one exception raised for bad input while preparing a dataset."""

from __future__ import annotations

from pathlib import Path

from custom_networks.errors import UserError


class DataPreparationError(UserError):
    """Bad input (missing pair, unreadable file, size mismatch, unexpected values, wrong channels, empty source).

    Args:
        problem: what is wrong, in a few words.
        path: the file or folder at fault, when there is one; it leads the message.
    """

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        self.problem = problem
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)
