"""Figures of a comparison: box plots of a per-case metric per network and training curves. Drawn on matplotlib
``Figure`` objects (Agg canvas), without pyplot, so nothing needs a display."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["plot_boxplot", "plot_training_curves"]

DPI = 120


def _save(figure: Figure, path: Path) -> None:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI)


def plot_boxplot(rows: Sequence[Mapping[str, Any]], column: str, label: str, path: Path) -> None:
    """Box plot of the per-case values of ``column`` per network (every fold's test cases together), with the
    values as points on top; undefined values (NaN) are left out."""
    networks = list(dict.fromkeys(row["network"] for row in rows))
    values = [[row[column] for row in rows if row["network"] == n and not math.isnan(row[column])] for n in networks]
    figure = Figure(figsize=(1.2 + 1.1 * len(networks), 4.0), layout="constrained")
    axes = figure.add_subplot()
    axes.boxplot(values, showfliers=False)
    axes.set_xticks(range(1, len(networks) + 1), networks)
    jitter = np.random.default_rng(0)
    for position, points in enumerate(values, start=1):
        axes.scatter(position + jitter.uniform(-0.15, 0.15, len(points)), points, s=10, alpha=0.6, zorder=3)
    axes.set_ylabel(label)
    axes.set_title(f"{label} per test case, all folds")
    axes.grid(axis="y", alpha=0.3)
    _save(figure, path)


def plot_training_curves(curves: Mapping[tuple[str, int], Sequence[Mapping[str, float]]], path: Path) -> None:
    """Training loss, validation Dice and validation IoU (Jaccard) per epoch: one line per (network, fold) run, one
    colour per network.

    Args:
        curves: (network, fold) → rows ``epoch``, ``train_loss``, ``val_mean_dice``, ``val_mean_iou``
            (:func:`~custom_networks.experiments.training_curves.epoch_curves`).
        path: the PNG file.
    """
    networks = list(dict.fromkeys(network for network, _ in curves))
    colours = {network: f"C{i % 10}" for i, network in enumerate(networks)}
    figure = Figure(figsize=(16.0, 4.0), layout="constrained")
    loss_axes, dice_axes, iou_axes = figure.subplots(1, 3)
    for (network, fold), rows in curves.items():
        style = {"color": colours[network], "alpha": 0.8, "marker": "." if len(rows) < 30 else None}
        label = network if fold == min(f for n, f in curves if n == network) else None
        loss_axes.plot([row["epoch"] for row in rows], [row["train_loss"] for row in rows], label=label, **style)
        for axes, key in ((dice_axes, "val_mean_dice"), (iou_axes, "val_mean_iou")):
            validated = [row for row in rows if not math.isnan(row.get(key, math.nan))]
            axes.plot([row["epoch"] for row in validated], [row[key] for row in validated], **style)
    titles = ("training loss (mean per epoch)", "validation Dice", "validation IoU (Jaccard)")
    for axes, title in zip((loss_axes, dice_axes, iou_axes), titles, strict=True):
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title)
        axes.grid(alpha=0.3)
    loss_axes.legend(title="one line per fold")
    _save(figure, path)
