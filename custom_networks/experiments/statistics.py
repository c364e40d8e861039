"""The per-case results table of a comparison and its summary: mean ± standard deviation per network, relative
improvement over a baseline and paired t-tests against a reference network."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "SUMMARY_METRICS",
    "Metric",
    "SummaryRow",
    "read_results",
    "summarize",
    "write_results",
    "write_summary_csv",
    "write_summary_markdown",
]

KEYS = ("network", "fold", "case")


@dataclass(frozen=True)
class Metric:
    """A column of the results table and how to read it."""

    label: str
    column: str
    higher_is_better: bool


SUMMARY_METRICS = (
    Metric("Dice", "mean_dice", True),
    Metric("IoU", "mean_iou", True),
    Metric("HD95", "hausdorff95", False),
)


@dataclass(frozen=True)
class SummaryRow:
    """One network and metric: ``n`` defined per-case values over all folds, their ``mean`` and ``std`` (sample
    standard deviation, ddof 1); ``improvement``: relative improvement in % of the mean over the baseline's (positive
    is better); ``p_value`` of the paired t-test against the reference over ``n_pairs`` pairs. None where it does not
    apply (the baseline or reference itself, or absent)."""

    network: str
    metric: str
    n: int
    mean: float
    std: float
    improvement: float | None
    p_value: float | None
    n_pairs: int | None


def write_results(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Write the per-case rows (``network``, ``fold``, ``case``, then the metrics of the first row) as CSV."""
    columns = list(rows[0])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def read_results(path: Path) -> list[dict[str, Any]]:
    """The rows of a results CSV: ``fold`` as int, metrics as float (NaN where undefined)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [
            {k: (int(v) if k == "fold" else v if k in KEYS else float(v)) for k, v in row.items()}
            for row in csv.DictReader(f)
        ]


def _values(rows: Sequence[dict[str, Any]], network: str, column: str) -> dict[tuple[int, str], float]:
    """(fold, case) → value of ``column`` for ``network``, NaN left out."""
    return {
        (row["fold"], row["case"]): row[column]
        for row in rows
        if row["network"] == network and not math.isnan(row[column])
    }


def summarize(rows: Sequence[dict[str, Any]], reference: str | None, baseline: str | None = "unet") -> list[SummaryRow]:
    """Summary of the results table, per network (in order of appearance) and metric of :data:`SUMMARY_METRICS`
    present in the table.

    Mean and standard deviation run over every defined per-case value of a network, all folds together. The paired
    t-test (two-sided, ``scipy.stats.ttest_rel``) compares a network with ``reference`` on the pairs of values of
    the same test case evaluated after training with the same validation fold; pairs with an undefined value on
    either side are left out. As every test case appears once per fold, the pairs are not independent: the p-values
    are indicative, not exact.

    Args:
        rows: the per-case rows (:func:`read_results`).
        reference: network the others are tested against (None: no tests).
        baseline: network the relative improvement is computed over (None or absent: none).
    """
    networks = list(dict.fromkeys(row["network"] for row in rows))
    summary = []
    for metric in (m for m in SUMMARY_METRICS if m.column in rows[0]):
        base = _values(rows, baseline, metric.column) if baseline in networks else None
        ref = _values(rows, reference, metric.column) if reference in networks else None
        for network in networks:
            values = _values(rows, network, metric.column)
            array = np.array(list(values.values()))
            mean = float(array.mean()) if array.size else math.nan
            std = float(array.std(ddof=1)) if array.size > 1 else math.nan
            improvement = p_value = n_pairs = None
            if base is not None and network != baseline:
                base_mean = float(np.mean(list(base.values()))) if base else math.nan
                gain = mean - base_mean if metric.higher_is_better else base_mean - mean
                # undefined (shown as "—") over a baseline mean of 0 (nothing segmented) or without values
                improvement = 100 * gain / base_mean if base_mean and math.isfinite(gain / base_mean) else None
            if ref is not None and network != reference:
                pairs = sorted(values.keys() & ref.keys())
                n_pairs = len(pairs)
                if n_pairs > 1:
                    p_value = float(stats.ttest_rel([values[k] for k in pairs], [ref[k] for k in pairs]).pvalue)
                else:
                    p_value = math.nan
            summary.append(SummaryRow(network, metric.label, array.size, mean, std, improvement, p_value, n_pairs))
    return summary


def write_summary_csv(summary: Sequence[SummaryRow], path: Path) -> None:
    """The summary as CSV, one row per network and metric, full precision; empty cells where a value does not
    apply."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[field.name for field in fields(SummaryRow)])
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in asdict(row).items()} for row in summary)


def _table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(cells) + " |" for cells in [header, ["---"] * len(header), *lines]]


def write_summary_markdown(
    summary: Sequence[SummaryRow],
    path: Path,
    title: str,
    reference: str | None,
    baseline: str | None,
    settings: str = "",
) -> None:
    """The summary as a Markdown report: mean ± std (n) per network and metric (4 decimals), then the relative
    improvement over ``baseline`` (%, 1 decimal) and the paired t-test p-values against ``reference`` (3
    significant digits); ``settings``, a paragraph under the title."""
    networks = list(dict.fromkeys(row.network for row in summary))
    metrics = list(dict.fromkeys(row.metric for row in summary))
    cell = {(row.network, row.metric): row for row in summary}
    lines = [
        f"# {title}",
        "",
        *([settings, ""] if settings else []),
        "## Mean ± standard deviation over test cases and folds",
        "",
    ]
    lines += _table(
        ["Network", *(f"{m} (n)" for m in metrics)],
        [[n] + [f"{cell[n, m].mean:.4f} ± {cell[n, m].std:.4f} ({cell[n, m].n})" for m in metrics] for n in networks],
    )
    lines += ["", "n: defined per-case values (undefined ones, NaN, left out); sample standard deviation."]
    lines += ["", "## Comparison", ""]
    improvement_header = [f"{m} vs {baseline} (%)" for m in metrics] if baseline in networks else []
    test_header = [f"p {m} vs {reference}" for m in metrics] if reference in networks else []
    rows = []
    for n in networks:
        row = [n]
        if improvement_header:
            row += ["—" if cell[n, m].improvement is None else f"{cell[n, m].improvement:+.1f}" for m in metrics]
        if test_header:
            row += ["—" if cell[n, m].p_value is None else f"{cell[n, m].p_value:.3g}" for m in metrics]
        rows.append(row)
    lines += _table(["Network", *improvement_header, *test_header], rows)
    lines += [
        "",
        f"Relative improvement over {baseline}: (mean − baseline mean) / baseline mean for Dice and IoU, (baseline "
        "mean − mean) / baseline mean for HD95; positive is better."
        if improvement_header
        else f"No relative improvement: the baseline {baseline} was not trained.",
        f"p: two-sided paired t-test (scipy.stats.ttest_rel) of the per-case values against {reference}, paired by "
        "test case and validation fold (the same test case evaluated after training on the same folds); pairs with "
        "an undefined value on either side are left out. Every test case appears once per fold, so the pairs are "
        "not independent and the p-values are indicative."
        if test_header
        else "No t-tests: no reference network.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
