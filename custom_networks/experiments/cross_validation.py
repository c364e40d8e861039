"""Cross-validated comparison of networks through a bundle, as in the MILDNet paper: every network is trained once per
validation fold with the bundle's own configs (command-line overrides, no copies), every run is evaluated on the
held-out test split, and a report compares the networks per test case.

    from custom_networks.experiments import cross_validate
    cross_validate("mildnet_dsb2018_nuclei", "/data/dsb2018", networks="mildnet,unet", folds="0,1", epochs=30)

Command line: ``python scripts/cross_validate.py`` (see :func:`cross_validate`).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from custom_networks.data import datalist_split
from custom_networks.errors import BadValueError
from custom_networks.experiments.ensembles import (
    compare_ensembles,
    ensemble_markdown,
    plan_ensembles,
    write_ensembles,
)
from custom_networks.experiments.networks import (
    bundle_config,
    bundle_network,
    bundle_spatial_dims,
    check_roi_size,
    network_def,
)
from custom_networks.experiments.plots import plot_boxplot, plot_training_curves
from custom_networks.experiments.runs import Run
from custom_networks.experiments.statistics import (
    SUMMARY_METRICS,
    summarize,
    write_results,
    write_summary_csv,
    write_summary_markdown,
)
from custom_networks.experiments.training_curves import epoch_curves
from custom_networks.nets.registry import baselines
from custom_networks.zoo import find_bundle

__all__ = ["as_list", "cross_validate", "plan_runs", "write_report"]

logger = logging.getLogger(__name__)

RUN_KEYS = ("bundle_root", "dataset_dir", "fold", "network_def", "output_dir", "resume")  # set per run


def as_list(value: str | int | Sequence[Any]) -> list[Any]:
    """``"a,b"`` (as typed), a single value or a sequence (as ``fire`` parses ``a,b``) as a list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [value] if isinstance(value, int) else list(value)


def plan_runs(
    bundle_dir: Path,
    dataset_dir: Path,
    networks: Sequence[str],
    folds: Sequence[int],
    output_dir: Path,
    overrides: dict[str, Any],
    protocol_configs: Sequence[str] = (),
) -> list[Run]:
    """Every (network, fold) run, fold by fold, in ``output_dir/runs/<network>/fold<k>``, with the bundle's
    ``protocol_configs`` on top of ``train.json``.

    Raises:
        ValueError: an unknown network, a network that cannot take the bundle's roi_size, a fold without cases in the
            datalist, or an override that is set per run.
    """
    reserved = sorted(set(overrides) & set(RUN_KEYS))
    if reserved:
        raise BadValueError(f"{reserved} are set per run; choose networks with --networks and folds with --folds.")
    parser = bundle_config(bundle_dir, overrides, protocol_configs)
    definitions = {network: network_def(network, parser) for network in networks}
    for network, definition in definitions.items():
        check_roi_size(network, parser, definition)
    for fold in folds:
        datalist_split(dataset_dir, "validation", fold)  # raises for a fold without cases
    return [
        Run(
            bundle_dir=bundle_dir,
            dataset_dir=dataset_dir,
            network=network,
            fold=fold,
            root=output_dir / "runs" / network / f"fold{fold}",
            overrides={
                **overrides,
                "fold": fold,
                **({} if definitions[network] is None else {"network_def": definitions[network]}),
            },
            protocol_configs=tuple(protocol_configs),
        )
        for fold in folds
        for network in networks
    ]


def write_report(
    runs: Sequence[Run], output_dir: Path, reference: str | None, baseline: str, ensembles: Sequence[Run] = ()
) -> None:
    """The report of evaluated runs in ``output_dir``: ``results.csv`` (one row per network, fold and test case),
    ``summary.csv`` and ``summary.md`` (:mod:`.statistics`), ``boxplot_<metric>.png`` per summary metric,
    ``training_curves.csv`` and ``training_curves.png``; with evaluated fold ``ensembles`` (:mod:`.ensembles`), also
    ``ensemble_results.csv``, ``ensembles.csv`` and their section of ``summary.md``."""
    rows = [row for run in runs for row in run.results()]
    write_results(rows, output_dir / "results.csv")
    summary = summarize(rows, reference, baseline)
    write_summary_csv(summary, output_dir / "summary.csv")
    networks, folds = list(dict.fromkeys(r.network for r in runs)), list(dict.fromkeys(r.fold for r in runs))
    title = f"Cross-validation of {runs[0].bundle_dir.name}: {', '.join(networks)}; validation folds {folds}"
    protocol = {k: v for k, v in runs[0].overrides.items() if k not in RUN_KEYS}
    settings = (
        f"Dataset `{runs[0].dataset_dir}`, {len(rows) // len(runs)} test cases. Protocol, the same for every run: "
        + (", ".join(f"`{k}` {json.dumps(v)}" for k, v in protocol.items()) or "the bundle's defaults")
        + " (e.g. `augment_prob` 0: no augmentation, as the MILDNet paper compares networks). Settings of each run "
        "(config overrides, `network_def` of the swapped networks): `runs/<network>/fold<k>/run.json`."
    )
    write_summary_markdown(summary, output_dir / "summary.md", title, reference, baseline, settings)
    if ensembles:
        table = compare_ensembles(runs, ensembles)
        write_ensembles(ensembles, table, output_dir)
        with open(output_dir / "summary.md", "a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(ensemble_markdown(table)) + "\n")
    for metric in (m for m in SUMMARY_METRICS if m.column in rows[0]):
        plot_boxplot(rows, metric.column, metric.label, output_dir / f"boxplot_{metric.column}.png")
    curves = {(run.network, run.fold): epoch_curves(run.root) for run in runs}
    with open(output_dir / "training_curves.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(
            f, fieldnames=["network", "fold", "epoch", "train_loss", "val_mean_dice", "val_mean_iou"]
        )
        writer.writeheader()
        writer.writerows({"network": n, "fold": k, **epoch} for (n, k), epochs in curves.items() for epoch in epochs)
    plot_training_curves(curves, output_dir / "training_curves.png")


def cross_validate(
    bundle: str | Path,
    dataset_dir: str | Path,
    networks: str | Sequence[str] | None = None,
    folds: str | int | Sequence[int] = (0, 1, 2, 3, 4),
    epochs: int | None = None,
    output_dir: str | Path | None = None,
    baseline: str = "unet",
    ensemble: bool = True,
    protocol_configs: str | Sequence[str] = (),
    **overrides: Any,
) -> Path:
    """Train every network on every fold through the bundle, evaluate every run on the test split, then each
    network's fold models as one ensemble (with ``ensemble`` and two folds or more), and write the report
    (:func:`write_report`); returns the report folder.

    Interrupted comparisons resume: run the same command again. A run evaluated before is skipped, one with a
    training checkpoint continues from it (``--resume True``), any other starts from scratch (see
    :meth:`Run.execute`). The subprocesses' output goes to ``runs/<network>/fold<k>/{train,evaluate}.log``.

    Args:
        bundle: a bundle folder, or the name of one in this repository's ``bundles/``.
        dataset_dir: the prepared dataset (``scripts/prepare_data.py``).
        networks: short names (:data:`~custom_networks.nets.registry.NETWORKS`), ``"a,b"`` or a list;
            default: the bundle's own network and the baselines its paper compares it with (that fit the
            bundle's dimensionality).
        folds: validation folds, ``"0,1"``, one or a list.
        epochs: ``max_epochs`` of every run (default: the bundle's).
        output_dir: report folder (default ``cross_validation/<bundle name>``).
        baseline: network of the relative improvements.
        ensemble: evaluate each network's fold models as one ensemble (``ensembles/<network>``).
        protocol_configs: config files of the bundle applied on top of ``train.json`` in every training and
            evaluation, ``"a.json,b.json"`` or a list (e.g. ``paper_train.json``: a paper's protocol).
        overrides: bundle config overrides for every run (``features``, ``roi_size``, ``num_workers``,
            ``progress``, …).

    Raises:
        ValueError: unknown network, missing fold, an override that is set per run, or a run folder made with
            other settings.
        RunError: a training or evaluation failed (the message names its log).
    """
    bundle_dir = find_bundle(bundle)
    overrides = json.loads(json.dumps({**overrides, **({} if epochs is None else {"max_epochs": epochs})}))
    protocol_configs = as_list(protocol_configs)
    parser = bundle_config(bundle_dir, overrides, protocol_configs)
    own = bundle_network(parser)
    if networks is None:
        networks = [own, *baselines(own, bundle_spatial_dims(parser))]
    networks = list(dict.fromkeys(as_list(networks)))
    folds = [int(fold) for fold in as_list(folds)]
    output_dir = Path(output_dir or Path("cross_validation") / bundle_dir.name).resolve()
    runs = plan_runs(bundle_dir, Path(dataset_dir).resolve(), networks, folds, output_dir, overrides, protocol_configs)
    ensembles = plan_ensembles(runs, output_dir) if ensemble else []
    for run in [*runs, *ensembles]:  # before anything runs
        run.check_settings()
    for index, run in enumerate(runs, start=1):
        logger.info(f"run {index}/{len(runs)}: {run.name}")
        run.execute()
    for run in ensembles:
        logger.info(f"ensemble of the {len(folds)} folds of {run.network}")
        run.evaluate()
    write_report(runs, output_dir, own if own in networks else networks[0], baseline, ensembles)
    logger.info(f"report in {output_dir}")
    return output_dir
