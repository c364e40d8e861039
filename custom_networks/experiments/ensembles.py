"""Fold ensembles of a cross-validation (nnU-Net's practice): the fold models of each network evaluated as one on the
test split, by the mean of their probabilities (the bundle's ``ensemble_evaluate.json``), and set against the folds."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from custom_networks.experiments.runs import ENSEMBLE_FOLD, Run
from custom_networks.experiments.statistics import SUMMARY_METRICS

__all__ = ["EnsembleRow", "compare_ensembles", "ensemble_markdown", "plan_ensembles", "write_ensembles"]

CONFIGS = ("evaluate.json", "ensemble_evaluate.json")  # on top of train.json and the runs' protocol configs


def plan_ensembles(runs: Sequence[Run], output_dir: Path) -> list[Run]:
    """One evaluation per network with two folds or more: its fold models (``models/model.pt`` of each run) as one
    ensemble, with the runs' settings, in ``output_dir/ensembles/<network>``."""
    networks = list(dict.fromkeys(run.network for run in runs))
    ensembles = []
    for network in networks:
        members = [run for run in runs if run.network == network]
        if len(members) < 2:
            continue
        overrides = {k: v for k, v in members[0].overrides.items() if k != "fold"}
        ensembles.append(
            Run(
                bundle_dir=members[0].bundle_dir,
                dataset_dir=members[0].dataset_dir,
                network=network,
                fold=ENSEMBLE_FOLD,
                root=output_dir / "ensembles" / network,
                overrides={**overrides, "ensemble_models": [str(m.root / "models" / "model.pt") for m in members]},
                protocol_configs=members[0].protocol_configs,
                evaluate_configs=CONFIGS,
            )
        )
    return ensembles


@dataclass(frozen=True)
class EnsembleRow:
    """One network's ensemble against its folds on one metric: ``folds``, the mean over the test cases of each fold's
    model (``"fold k: mean"``, in fold order); ``folds_mean``, their mean; ``ensemble``, the ensemble's mean; ``n``, the
    test cases defined for both; ``p_value``, the paired t-test over those cases of the ensemble's value against the
    mean of the folds' values for the case (NaN with fewer than two)."""

    network: str
    metric: str
    folds: str
    folds_mean: float
    ensemble: float
    n: int
    p_value: float


def _by_case(rows: Sequence[dict[str, Any]], column: str) -> dict[str, float]:
    return {row["case"]: row[column] for row in rows if not math.isnan(row[column])}


def compare_ensembles(runs: Sequence[Run], ensembles: Sequence[Run]) -> list[EnsembleRow]:
    """Every evaluated ensemble against its folds, per metric of :data:`SUMMARY_METRICS` it has."""
    table = []
    for ensemble in ensembles:
        members = [run for run in runs if run.network == ensemble.network]
        results = {run.fold: run.results() for run in members}
        own = ensemble.results()
        for metric in (m for m in SUMMARY_METRICS if own and m.column in own[0]):
            fold_values = {fold: _by_case(rows, metric.column) for fold, rows in results.items()}
            fold_means = {fold: float(np.mean(list(v.values()))) if v else math.nan for fold, v in fold_values.items()}
            values = _by_case(own, metric.column)
            cases = [c for c in values if all(c in v for v in fold_values.values())]
            average = [float(np.mean([v[c] for v in fold_values.values()])) for c in cases]
            p_value = float(stats.ttest_rel([values[c] for c in cases], average).pvalue) if len(cases) > 1 else math.nan
            table.append(
                EnsembleRow(
                    network=ensemble.network,
                    metric=metric.label,
                    folds="; ".join(f"fold {fold}: {mean:.4f}" for fold, mean in fold_means.items()),
                    folds_mean=float(np.mean(list(fold_means.values()))),
                    ensemble=float(np.mean(list(values.values()))) if values else math.nan,
                    n=len(cases),
                    p_value=p_value,
                )
            )
    return table


def write_ensembles(ensembles: Sequence[Run], table: Sequence[EnsembleRow], output_dir: Path) -> None:
    """``ensemble_results.csv`` (the ensembles' per-case metrics, fold ``ensemble``) and ``ensembles.csv`` (the
    table, full precision) in ``output_dir``."""
    rows = [{**row, "fold": "ensemble"} for ensemble in ensembles for row in ensemble.results()]
    if rows:
        with open(output_dir / "ensemble_results.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    with open(output_dir / "ensembles.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[field.name for field in fields(EnsembleRow)])
        writer.writeheader()
        writer.writerows(asdict(row) for row in table)


def ensemble_markdown(table: Sequence[EnsembleRow]) -> list[str]:
    """The report's section on the fold ensembles (Markdown lines; none without ensembles)."""
    if not table:
        return []
    lines = [
        "## Fold ensembles",
        "",
        "| Network | Metric | Each fold's model | Mean of the folds | Ensemble | p (n) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.network} | {r.metric} | {r.folds} | {r.folds_mean:.4f} | {r.ensemble:.4f} | {r.p_value:.3g} ({r.n}) |"
        for r in table
    ]
    lines += [
        "",
        "Ensemble: the fold models of the network evaluated as one on the test split, by the mean of their "
        "probabilities (the bundle's ensemble_evaluate.json; folder ensembles/<network>). p: two-sided paired t-test "
        "over the test cases of the ensemble's value against the mean of the folds' values for the same case.",
    ]
    return lines
