"""Ignite's progress bar, configurable from a bundle's JSON (MONAI engines call ``attach(engine)`` only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ignite.engine import Engine
from ignite.handlers import ProgressBar as IgniteProgressBar

__all__ = ["ProgressBar"]


def _loss_of(output: Any) -> dict[str, float]:
    """The loss of a MONAI trainer iteration (a list of per-sample dicts, each holding the batch ``loss``)."""
    first = output[0] if isinstance(output, Sequence) and output else output
    if isinstance(first, dict) and "loss" in first:
        return {"loss": float(first["loss"])}
    return {}


class ProgressBar(IgniteProgressBar):
    """:class:`ignite.handlers.ProgressBar` whose ``attach`` arguments are given to the constructor.

    Args:
        metric_names: engine metrics to show ("all" for every one).
        output_transform: maps ``engine.state.output`` to ``{name: value}`` to show; by default the trainer's loss.
        kwargs: other arguments of :class:`ignite.handlers.ProgressBar` (``persist``, ``bar_format``, …).
    """

    def __init__(
        self,
        metric_names: str | list[str] | None = None,
        output_transform: Callable[[Any], Any] | None = _loss_of,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.metric_names = metric_names
        self.output_transform = output_transform

    def attach(self, engine: Engine, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if args or kwargs:
            super().attach(engine, *args, **kwargs)
        else:
            super().attach(engine, metric_names=self.metric_names, output_transform=self.output_transform)
