"""Summary statistics on a small hand-made results table: undefined values and unmatched cases drop out of means and
pairs, HD95 improves downwards, and the CSV round trip keeps NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from custom_networks.experiments import read_results, summarize
from custom_networks.experiments.statistics import write_results, write_summary_csv, write_summary_markdown

NAN = math.nan
# (network, fold, case, Dice, HD95)
TABLE = [
    ("mildnet", 0, "a.png", 0.9, 2.0),
    ("mildnet", 0, "b.png", 0.8, 4.0),
    ("mildnet", 1, "a.png", 0.85, NAN),
    ("mildnet", 1, "b.png", 0.7, 5.0),
    ("unet", 0, "a.png", 0.8, 3.0),
    ("unet", 0, "b.png", NAN, 6.0),
    ("unet", 1, "a.png", 0.75, 4.0),
    ("unet", 1, "b.png", 0.72, 5.5),
]


@pytest.fixture
def rows(tmp_path):
    table = [{"network": n, "fold": f, "case": c, "mean_dice": d, "hausdorff95": h} for n, f, c, d, h in TABLE]
    write_results(table, tmp_path / "results.csv")
    return read_results(tmp_path / "results.csv")


def test_round_trip_keeps_types_and_nan(rows):
    assert rows[0] == {"network": "mildnet", "fold": 0, "case": "a.png", "mean_dice": 0.9, "hausdorff95": 2.0}
    assert math.isnan(rows[2]["hausdorff95"]) and math.isnan(rows[5]["mean_dice"])


def test_summary(rows):
    summary = {(r.network, r.metric): r for r in summarize(rows, reference="mildnet", baseline="unet")}
    assert set(summary) == {(n, m) for n in ("mildnet", "unet") for m in ("Dice", "HD95")}  # no IoU column

    dice = summary["unet", "Dice"]
    assert dice.n == 3 and dice.mean == pytest.approx(np.mean([0.8, 0.75, 0.72]))
    assert dice.std == pytest.approx(np.std([0.8, 0.75, 0.72], ddof=1))
    assert dice.n_pairs == 3  # (0, b) has no U-Net value
    assert dice.p_value == pytest.approx(stats.ttest_rel([0.8, 0.75, 0.72], [0.9, 0.85, 0.7]).pvalue)
    assert dice.improvement is None and summary["mildnet", "Dice"].p_value is None
    improvement = 100 * (np.mean([0.9, 0.8, 0.85, 0.7]) - np.mean([0.8, 0.75, 0.72])) / np.mean([0.8, 0.75, 0.72])
    assert summary["mildnet", "Dice"].improvement == pytest.approx(improvement)

    hd95 = summary["mildnet", "HD95"]  # lower is better: fewer pixels of distance is an improvement
    assert hd95.improvement == pytest.approx(
        100 * (np.mean([3, 6, 4, 5.5]) - np.mean([2, 4, 5])) / np.mean([3, 6, 4, 5.5])
    )
    assert summary["unet", "HD95"].n_pairs == 3


def test_reference_or_baseline_absent(rows, tmp_path):
    summary = summarize(rows, reference="residualunet", baseline="unetplusplus")
    assert all(r.p_value is None and r.improvement is None for r in summary)
    write_summary_csv(summary, tmp_path / "summary.csv")
    write_summary_markdown(summary, tmp_path / "summary.md", "title", "residualunet", "unetplusplus")
    text = (tmp_path / "summary.md").read_text()
    assert "No t-tests" in text and "the baseline unetplusplus was not trained" in text
    assert "| mildnet | 0.8125 ± 0.0854 (4) | 3.6667 ± 1.5275 (3) |" in text
    assert (tmp_path / "summary.csv").read_text().splitlines()[1].endswith(",,,")  # empty, not "None"


def test_a_baseline_that_segmented_nothing_still_gives_a_report(tmp_path):
    """U-Net's Dice is 0 on every case and its HD95 undefined everywhere: no relative improvement can be computed
    (shown as "—"), and the report is written (it once ended in ZeroDivisionError after the whole training)."""
    table = [
        {"network": n, "fold": 0, "case": c, "mean_dice": d, "hausdorff95": h}
        for n, c, d, h in [("mildnet", "a", 0.6, 3.0), ("mildnet", "b", 0.5, 4.0), ("unet", "a", 0.0, NAN)]
        + [("unet", "b", 0.0, NAN)]
    ]
    summary = {(r.network, r.metric): r for r in summarize(table, reference="mildnet", baseline="unet")}
    assert summary["mildnet", "Dice"].improvement is None and summary["mildnet", "HD95"].improvement is None
    assert math.isnan(summary["unet", "HD95"].mean) and summary["unet", "HD95"].n == 0
    write_summary_markdown(list(summary.values()), tmp_path / "summary.md", "title", "mildnet", "unet")
    assert "| mildnet | — | — |" in (tmp_path / "summary.md").read_text()
