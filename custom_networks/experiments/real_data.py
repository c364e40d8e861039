"""Every bundle trained and measured on the real public data in ``../shared/data`` (or a stand-in for its dataset),
with a stated CPU protocol, by one command: ``python scripts/real_data.py <bundle>``.

For a bundle, :func:`real_data` prepares its data from the publisher's layout (``prepare_data.py``'s converters), trains
the bundle's own network through ``monai.bundle`` on folds 1–4 with fold 0 validating, evaluates the best model on
the test split (and on an external test set where the protocol names one), and writes ``results.json`` and
``results.md``: the data, the split, the protocol (every config override), the command, Dice, IoU, HD95 (per class
where there are several) and the training time. With ``compare`` it also cross-validates the bundle's network against
U-Net with identical settings (:func:`~custom_networks.experiments.cross_validate`: folds, per-case results, paired
tests, training curves). Runs resume after an interruption, as the comparisons do.
"""

from __future__ import annotations

import csv
import json
import logging
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import torch

from custom_networks.data import prepare
from custom_networks.errors import BadValueError, MissingFileError
from custom_networks.experiments.cross_validation import cross_validate
from custom_networks.experiments.networks import bundle_config, bundle_network
from custom_networks.experiments.runs import Run
from custom_networks.handlers import latest_checkpoint
from custom_networks.zoo import find_bundle, write_configs
from custom_networks.zoo.template import format_json

__all__ = [
    "PROTOCOLS",
    "RealDataProtocol",
    "comparison_results",
    "evaluation_metrics",
    "publish_results",
    "publish_summary",
    "real_data",
]

logger = logging.getLogger(__name__)

RESULTS = "results.json"
COMPARISON = "compare"  # the cross-validation against U-Net, in the output folder
CURVES = "training_curves.png"  # the comparison's training curves (cross_validate's report)
BUNDLE_RESULTS = "real_data_results.json"  # the published results.json, in the bundle's docs/
BUNDLE_CURVES = "real_data_training_curves.png"  # the published training curves, in the bundle's docs/
DATA_ROOT = "../shared/data"  # the raw datasets, beside the repository
PREPARED = "prepare.json"  # the preparation settings of a prepared folder, to reuse it only when they match


@dataclass(frozen=True)
class RealDataProtocol:
    """How one bundle is trained and measured on real data.

    Args:
        folder: the raw dataset, a folder of ``data_root`` in its publisher's layout.
        dataset: the ``prepare_data.py`` dataset (converter) that reads it.
        overrides: the bundle config overrides of the CPU protocol (widths, crop size, epochs, batch, validation
            interval, workers, seed), the same for every run of the bundle, comparisons included.
        prepare_options: options of the converter (e.g. a label mapping).
        stand_in: empty when ``folder`` is the bundle's own dataset; else what the data is and why it stands in.
        external: ``(folder, dataset)`` of a second dataset the trained model is also evaluated on, whole.
        compare_folds: validation folds of the comparison with U-Net (none: no comparison).
        halves_axis: for a dataset of one volume (one case cannot make a test split): train on the half below the
            middle of this axis (a copy of it validating), test on the other half; None: the converter's seeded split.
        class_names: what the evaluated classes (or regions) are, in the order of the metrics' columns, where there
            are several.
        caveat: what the figures do not show, said next to them.
    """

    folder: str
    dataset: str
    overrides: dict[str, Any]
    prepare_options: dict[str, Any] = field(default_factory=dict)
    stand_in: str = ""
    external: tuple[str, str] | None = None
    compare_folds: tuple[int, ...] = ()
    halves_axis: int | None = None
    class_names: tuple[str, ...] = ()
    caveat: str = ""


# What every CPU protocol shares: seeded, no progress bars in the logs, the data loaded by two workers.
CPU = {"seed": 0, "progress": False, "num_workers": 2}
# The MILDNet bundles: a quarter of the paper's widths (16…256), batches of 8, validation every 5 epochs.
MILDNET = {**CPU, "features": [16, 32, 64, 128, 256], "batch_size": 8, "val_interval": 5}
# One BraTS volume, one training half: every epoch is one random crop, so many short epochs.
BRATS = {**CPU, "roi_size": [64, 64, 64], "batch_size": 1, "num_workers": 0, "cache_rate": 1.0, "max_epochs": 300}
BRATS_VALIDATION = {"val_interval": 25, "early_stop_patience": 100}
BRATS_REGIONS = ("TC", "WT", "ET")  # the output channels: tumour core, whole tumour, enhancing tumour
BRATS_CAVEAT = (
    "one patient: trained on crops of the lower half of the volume (the same half validating), tested on the upper "
    "half, segmented whole by sliding window. It shows that the bundle learns this patient's tumour from real MRI and "
    "segments a whole volume; it says nothing about other patients, scanners or the BraTS benchmark"
)
DROSOPHILA = "drosophila_vnc_sstem_gt"
MONUSEG = "monuseg2018_test_subset"
# adjacent sections look alike: split by blocks of 4 (the publisher's 80/20 split), one block tests, one validates
DROSOPHILA_SPLIT = {"block": 4, "test_fraction": 0.2, "num_folds": 4}
DROSOPHILA_STAND_IN = (
    "20 ssTEM sections of a Drosophila third-instar larva VNC (Gerhard et al. 2013), the same kind of images as the "
    "bundle's dataset"
)
MONUSEG_STAND_IN = "7 H&E tiles of MoNuSeg 2018 with nuclei as foreground, for the bundle's H&E histology"

PROTOCOLS: dict[str, RealDataProtocol] = {
    "mildnet_dsb2018_nuclei": RealDataProtocol(
        "dsb2018_stage1_train_subset",
        "dsb2018",
        {**MILDNET, "roi_size": [128, 128], "max_epochs": 40},
        compare_folds=(0, 1, 2),
    ),
    "multiresunet_cvc_clinicdb_endoscopy": RealDataProtocol(
        "cvc_clinicdb_subset",
        "cvc_clinicdb",
        {
            **CPU,
            "features": [16, 32, 64, 128, 256],
            "batch_size": 8,
            "max_epochs": 40,
            "val_interval": 5,
        },
        # masks binarised at 128 (stray grey pixels); consecutive frames are near-copies: split blocks of 20 frames
        prepare_options={"threshold": 128, "block": 20},
        external=("kvasir_seg_sample", "kvasir_seg"),
        compare_folds=(0, 1, 2),
    ),
    "mildnet_isic2018_dermoscopy": RealDataProtocol(
        "isic2017_part1_validation_subset",
        "isic2017",
        {**MILDNET, "roi_size": [128, 128], "max_epochs": 150},
        stand_in="24 ISIC 2017 Part 1 validation images: the archive and mask convention of ISIC 2018 Task 1",
        compare_folds=(0, 1, 2),
    ),
    "mildnet_isbi2012_em": RealDataProtocol(
        DROSOPHILA,
        "drosophila_vnc",
        {**MILDNET, "roi_size": [160, 160], "patches_per_image": 8, "max_epochs": 20},
        prepare_options={"mapping": "membrane", **DROSOPHILA_SPLIT},
        stand_in=DROSOPHILA_STAND_IN + " (ISBI 2012: a first-instar larva), membrane against cell",
        compare_folds=(0, 1, 2),
    ),
    "rescrnet_em_organelles": RealDataProtocol(
        DROSOPHILA,
        "drosophila_vnc",
        {
            **CPU,
            "roi_size": [128, 128],
            "batch_size": 8,
            "epoch_repeats": 4,
            "max_epochs": 20,
            "val_interval": 5,
        },
        prepare_options={"mapping": "organelles", **DROSOPHILA_SPLIT},
        stand_in=DROSOPHILA_STAND_IN + ", other / membrane / mitochondrion",
        class_names=("membrane", "mitochondrion"),
        caveat="the stand-in's class 1 is membrane where the bundle's metadata names nucleus (its own data's class); "
        "20 epochs of 6 steps, against the paper's 90 epochs",
    ),
    "mildnet_glas2015_histology": RealDataProtocol(
        MONUSEG,
        "monuseg",
        {**MILDNET, "roi_size": [160, 160], "patches_per_image": 32, "max_epochs": 20},
        stand_in=MONUSEG_STAND_IN + " (glands in GlaS)",
    ),
    "msunet_lymphnode_histology": RealDataProtocol(
        MONUSEG,
        "monuseg",
        {**CPU, "features": [16, 24, 48, 72, 96, 96], "roi_size": [512, 512], "batch_size": 2, "max_epochs": 40},
        stand_in=MONUSEG_STAND_IN + " (sinuses in lymph-node tiles); clean annotations, so the fuzzy-boundary and "
        "bootstrapping losses meet no label noise",
    ),
    "mildnet3d_brats_mri": RealDataProtocol(
        "brats2021_subset",
        "brats",
        {**BRATS, **BRATS_VALIDATION, "features": [8, 16, 32, 64, 128]},
        halves_axis=2,
        class_names=BRATS_REGIONS,
        caveat=BRATS_CAVEAT,
    ),
    "multiresunet3d_brats_mri": RealDataProtocol(
        "brats2021_subset",
        "brats",
        {**BRATS, **BRATS_VALIDATION, "features": [8, 16, 32, 64, 128]},
        halves_axis=2,
        class_names=BRATS_REGIONS,
        caveat=BRATS_CAVEAT,
    ),
}


def _prepared(folder: Path, settings: dict[str, Any]) -> Path:
    """``folder`` prepared with ``settings`` (``prepare``'s arguments), reused when it was prepared with the same."""
    record = folder / PREPARED
    if not (record.is_file() and json.loads(record.read_text(encoding="utf-8")) == settings):
        prepare(dst=folder, progress=False, verbose=False, **settings)
        record.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return folder


def _halves(prepared: Path, folder: Path, axis: int) -> Path:
    """A dataset folder from the one case of ``prepared``: ``<case>_lower`` (the voxels below the middle of ``axis``)
    as training case and, identical, as validation case (fold 0), and ``<case>_upper`` as the test case."""
    item = json.loads((prepared / "datalist.json").read_text(encoding="utf-8"))["training"][0]
    case, datalist = item["case"], {"training": [], "testing": []}
    for part in ("lower", "upper"):
        files = {}
        for key in ("image", "label"):
            volume = nib.load(prepared / item[key])
            middle = volume.shape[axis] // 2
            cut = [slice(None)] * len(volume.shape)
            cut[axis] = slice(None, middle) if part == "lower" else slice(middle, None)
            files[key] = f"{key}s/{case}_{part}.nii.gz"
            (folder / f"{key}s").mkdir(parents=True, exist_ok=True)
            nib.save(volume.slicer[tuple(cut)], folder / files[key])
        if part == "lower":
            datalist["training"] += [{**files, "fold": fold, "case": f"{case}_{part}"} for fold in (0, 1)]
        else:
            datalist["testing"].append({**files, "case": f"{case}_{part}"})
    (folder / "datalist.json").write_text(json.dumps(datalist, indent=1), encoding="utf-8")
    return folder


def _as_test_set(prepared: Path, folder: Path) -> Path:
    """A dataset folder whose test split is every case of the prepared dataset ``prepared`` (an external test set)."""
    datalist = json.loads((prepared / "datalist.json").read_text(encoding="utf-8"))
    cases = [{**item, "image": str(prepared / item["image"]), "label": str(prepared / item["label"])}
             for item in datalist["training"] + datalist["testing"]]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datalist.json").write_text(json.dumps({"training": [], "testing": cases}, indent=1), encoding="utf-8")
    return folder


def training_record(models_dir: Path) -> dict[str, Any]:
    """How far the training in ``models_dir`` went, from its newest last checkpoint: the epochs run (fewer than
    ``max_epochs`` when early stopping ended it) and the best validation key metric with its epoch."""
    checkpoint = torch.load(latest_checkpoint(models_dir), map_location="cpu", weights_only=True)
    trainer, state = checkpoint["trainer"], checkpoint["training_state"]
    return {
        "epochs": trainer["iteration"] // trainer["epoch_length"],
        "max_epochs": trainer["max_epochs"],
        "best_validation": round(float(state["best_metric"]), 4),
        "best_epoch": int(state["best_metric_epoch"]),
    }


REGION_HD95 = "hd95_"  # the prefix of the 3-D bundles' per-region HD95 metrics


def evaluation_metrics(eval_dir: Path) -> dict[str, Any]:
    """The metrics of an evaluation folder (``evaluate.json``'s output): for each metric the mean over the test cases
    (of the mean over classes; undefined cases left out) and the number of cases it covers, and, where there are
    several classes, the mean per class. Per-region HD95s (``hd95_<region>``, the 3-D bundles) also make one
    ``hausdorff95``: the mean over the regions, and each region as a class."""
    metrics: dict[str, Any] = {}
    with open(eval_dir / "metrics.csv", encoding="utf-8") as f:
        names = [row[0] for row in csv.reader(f) if row]
    for name in names:
        with open(eval_dir / f"{name}_raw.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        columns = [c for c in rows[0] if c not in ("filename", "mean")] if rows else []
        entry: dict[str, Any] = {"mean": _mean([float(r["mean"]) for r in rows]), "cases": len(rows)}
        if len(columns) > 1:
            entry["per_class"] = {c: _mean([float(r[c]) for r in rows]) for c in columns}
        metrics[name.removeprefix("test_")] = entry
    regions = {k.removeprefix(REGION_HD95): v for k, v in metrics.items() if k.startswith(REGION_HD95)}
    if regions and "hausdorff95" not in metrics:  # the 3-D bundles: one HD95 per region
        metrics["hausdorff95"] = {
            "mean": _mean([v["mean"] for v in regions.values() if v["mean"] is not None]),
            "cases": max(v["cases"] for v in regions.values()),
            "per_class": {region: v["mean"] for region, v in regions.items()},
        }
    return metrics


def _mean(values: list[float]) -> float | None:
    defined = [v for v in values if v == v]  # NaN: undefined for that case
    return sum(defined) / len(defined) if defined else None


def _command(bundle: str, data_root: str | Path, output_dir: str | Path | None, compare: bool) -> str:
    """The command line that reproduces a run, as the user typed its paths."""
    arguments = [bundle, *([] if str(data_root) == DATA_ROOT else ["--data_root", str(data_root)])]
    arguments += [] if output_dir is None else ["--output_dir", str(output_dir)]
    return shlex.join(["python", "scripts/real_data.py", *arguments, *(["--compare", "True"] if compare else [])])


def real_data(
    bundle: str,
    data_root: str | Path = DATA_ROOT,
    output_dir: str | Path | None = None,
    compare: bool = False,
    protocol: RealDataProtocol | None = None,
    publish: bool = False,
) -> dict[str, Any]:
    """Prepare, train, evaluate and report ``bundle`` on its real data (see the module docstring); returns what
    ``results.json`` holds.

    Args:
        bundle: a bundle of :data:`PROTOCOLS`.
        data_root: the folder of the raw datasets (``../shared/data`` next to the repository).
        output_dir: where everything goes (default ``real_data/<bundle>``).
        compare: also cross-validate the bundle's network against U-Net (``compare/``).
        protocol: another protocol than the bundle's in :data:`PROTOCOLS` (the figures in the READMEs come from
            those).
        publish: write the results into the bundle (:func:`publish_results`).

    Raises:
        ValueError: a bundle without a real-data protocol.
        FileNotFoundError: the raw data is not in ``data_root``.
    """
    if protocol is None and bundle not in PROTOCOLS:
        raise BadValueError(f"{bundle}: no real-data protocol for this bundle; protocols: {sorted(PROTOCOLS)}.")
    protocol, bundle_dir = protocol or PROTOCOLS[bundle], find_bundle(bundle)
    command = _command(bundle, data_root, output_dir, compare)
    data_root, output_dir = Path(data_root).resolve(), Path(output_dir or Path("real_data") / bundle).resolve()
    raw = data_root / protocol.folder
    if not raw.is_dir():
        raise MissingFileError(f"{raw}: no such folder; pass the folder holding {protocol.folder} as --data_root.")
    preparation = {"dataset": protocol.dataset, "src": str(raw), **protocol.prepare_options}
    if protocol.halves_axis is None:
        data = _prepared(output_dir / "data", preparation)
    else:
        whole = _prepared(output_dir / "whole", {**preparation, "test_fraction": 0.0, "num_folds": 1})
        data = _halves(whole, output_dir / "data", protocol.halves_axis)
    network = bundle_network(bundle_config(bundle_dir, protocol.overrides))
    run = Run(bundle_dir, data, network, 0, output_dir / "run", protocol.overrides)
    run.execute()
    version = json.loads((bundle_dir / "configs" / "metadata.json").read_text(encoding="utf-8"))["version"]
    results: dict[str, Any] = {
        "bundle": bundle,
        "version": version,
        "command": command,
        "data": {"folder": protocol.folder, "dataset": protocol.dataset, **protocol.prepare_options},
        "stand_in": protocol.stand_in,
        "split": _split(data),
        "protocol": protocol.overrides,
        "classes": list(protocol.class_names),
        "caveat": protocol.caveat,
        "training": training_record(run.root / "models"),
        "test": evaluation_metrics(run.eval_dir),
    }
    if protocol.external is not None:
        folder, dataset = protocol.external
        whole = {"dataset": dataset, "src": str(data_root / folder), "test_fraction": 0.0, "num_folds": 1}
        prepared = _prepared(output_dir / "external_data", whole)
        eval_dir = run.evaluate_on(_as_test_set(prepared, output_dir / "external"), output_dir / "external_eval")
        results["external_test"] = {"folder": folder, "dataset": dataset, "test": evaluation_metrics(eval_dir)}
    if compare and protocol.compare_folds:
        networks = list(dict.fromkeys([network, "unet"]))
        report = cross_validate(
            bundle_dir, data, networks, protocol.compare_folds, output_dir=output_dir / COMPARISON, **protocol.overrides
        )
        results["comparison"] = {**comparison_results(report, protocol.compare_folds), "version": version}
    results["seconds"] = run.timings()
    (output_dir / RESULTS).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (output_dir / "results.md").write_text(results_markdown(results), encoding="utf-8")
    if publish:
        publish_results(results, bundle_dir, output_dir)
    return results


def _numbers(path: Path, texts: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows of a report's CSV, numbers as numbers (``n`` and ``n_pairs`` ints; None for empty cells), except the
    ``texts`` columns."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    number = {"n": int, "n_pairs": int}
    return [
        {
            key: value if key in texts else None if value == "" else number.get(key, float)(value)
            for key, value in row.items()
        }
        for row in rows
    ]


def comparison_results(report: Path, folds: tuple[int, ...]) -> dict[str, Any]:
    """The comparison of ``report`` (a :func:`cross_validate` folder) as ``results.json`` holds it: its folder, the
    folds, the rows of its ``summary.csv`` and, where it has them, of its ``ensembles.csv`` (the fold ensembles)."""
    comparison = {
        "folder": report.name,
        "folds": list(folds),
        "summary": _numbers(report / "summary.csv", ("network", "metric")),
    }
    if (report / "ensembles.csv").is_file():
        comparison["ensembles"] = _numbers(report / "ensembles.csv", ("network", "metric", "folds"))
    return comparison


def _replace_between(path: Path, start: str, end: str, body: str) -> None:
    """Replace the lines between the lines ``start`` and ``end`` of ``path`` with ``body``.

    Raises:
        ValueError: ``path`` has no such lines.
    """
    text = path.read_text(encoding="utf-8")
    before, found_start, rest = text.partition(f"{start}\n")
    _, found_end, after = rest.partition(end)
    if not found_start or not found_end:
        raise ValueError(f"{path}: no '{start}' … '{end}' lines to write the results between.")
    path.write_text(before + found_start + body + found_end + after, encoding="utf-8")


def publish_results(results: dict[str, Any], bundle_dir: Path, output_dir: Path | None = None) -> None:
    """Write the results into the bundle's sources: ``results.md`` (its headings one level down) between the
    ``<!-- real-data results -->`` and ``<!-- end of real-data results -->`` lines of ``docs/README.md``, the results
    as ``docs/real_data_results.json`` (for :func:`publish_summary`), the comparison's training curves (from
    ``output_dir``, the run's folder) as ``docs/real_data_training_curves.png``, and the test split's mean Dice, IoU
    and HD95 as the metadata's ``eval_metrics`` in ``bundle.json``; then regenerate the bundle's configs. Results
    without a comparison keep the one published before (with the bundle version that measured it, which the README
    names where it is not the run's).

    Raises:
        ValueError: the README has no such lines.
    """
    docs = bundle_dir / "docs"
    previous = docs / BUNDLE_RESULTS
    if "comparison" not in results and previous.is_file():
        earlier = json.loads(previous.read_text(encoding="utf-8")).get("comparison")
        results = {**results, **({"comparison": earlier} if earlier else {})}
    elif "comparison" in results and output_dir is not None:
        shutil.copyfile(output_dir / results["comparison"]["folder"] / CURVES, docs / BUNDLE_CURVES)
    body = results_markdown(results, BUNDLE_CURVES).replace("\n#", "\n##").split("\n", 2)[2]  # without its title
    _replace_between(docs / "README.md", RESULTS_START, RESULTS_END, body)
    previous.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    source = bundle_dir / "bundle.json"
    layer = json.loads(source.read_text(encoding="utf-8"))
    metrics = {key: round(results["test"][key]["mean"], 4) for key in METRICS if key in results["test"]}
    layer.setdefault("metadata", {})["eval_metrics"] = metrics
    source.write_text(format_json(layer) + "\n", encoding="utf-8")
    write_configs([bundle_dir.name], bundle_dir.parent)


def publish_summary(bundles_dir: Path, readme: Path) -> None:
    """Write one table of the published results of every bundle in ``bundles_dir`` (their
    ``docs/real_data_results.json``) between the ``<!-- real-data summary -->`` and ``<!-- end of real-data summary
    -->`` lines of ``readme``: data, test cases, Dice, IoU, HD95, training time and, where the bundle was compared with
    U-Net, both networks' cross-validated Dice.

    Raises:
        ValueError: the README has no such lines.
    """
    published = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(bundles_dir.glob(f"*/docs/{BUNDLE_RESULTS}"))
    ]
    rows = [
        "| Bundle | Data | Test cases | Dice | IoU | HD95 (px) | Training (min) | Cross-validated Dice vs U-Net |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for results in published:
        test = results["test"]
        data = f"`{results['data']['folder']}`" + (" (stand-in)" if results["stand_in"] else "")
        cells = [_cell(test[key]["mean"]) if key in test else "n/a" for key in METRICS]
        against = "—"
        if "comparison" in results:
            dice = {r["network"]: r for r in results["comparison"]["summary"] if r["metric"] == "Dice"}
            against = " vs ".join(f"{n} {_cell(r['mean'])}" for n, r in dice.items())
            other = _other_version(results["comparison"], results.get("version"))
            against += f" ({len(results['comparison']['folds'])} folds{f', bundle version {other}' if other else ''})"
        bundle = results["bundle"]
        rows.append(
            f"| [{bundle}](bundles/{bundle}/docs/README.md#results) | {data} | {results['split']['test']} | "
            + " | ".join(cells)
            + f" | {results['seconds']['train'] / 60:.1f} | {against} |"
        )
    _replace_between(readme, SUMMARY_START, SUMMARY_END, "\n".join(rows) + "\n")


METRICS = {"mean_dice": "Dice", "mean_iou": "IoU", "hausdorff95": "HD95 (px)"}
# the Res-CR-Net bundles' scores with class 0 (a labelled class in that paper), in the bundle README's table only
WITH_CLASS_0 = {
    "tanimoto": "Tanimoto, class 0 included",
    "dice_all_classes": "Dice, class 0 included",
    "iou_all_classes": "IoU, class 0 included",
}
RESULTS_START, RESULTS_END = "<!-- real-data results -->", "<!-- end of real-data results -->"
SUMMARY_START, SUMMARY_END = "<!-- real-data summary -->", "<!-- end of real-data summary -->"


def _cell(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def metrics_table(metrics: dict[str, Any], class_names: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Markdown rows of Dice, IoU and HD95 (and of the scores with class 0 where there are): the mean over the test
    cases (the number of cases it covers), and the mean of each class where there are several (named by
    ``class_names``, the foreground classes, in the order of the columns)."""
    rows = ["| Metric | Mean (cases) | Per class |", "|---|---|---|"]
    for key, label in {**METRICS, **WITH_CLASS_0}.items():
        if key in metrics:
            entry = metrics[key]
            columns = entry.get("per_class", {})
            named = ["class 0", *class_names] if key in WITH_CLASS_0 else list(class_names)
            names = [*named, *list(columns)[len(named) :]]
            per_class = ", ".join(f"{n}: {_cell(v)}" for n, v in zip(names, columns.values(), strict=False)) or "—"
            rows.append(f"| {label} | {_cell(entry['mean'])} ({entry['cases']}) | {per_class} |")
    return rows


def _other_version(comparison: dict[str, Any], version: str | None) -> str | None:
    """The bundle version that measured ``comparison`` where it is not ``version`` (the run's), else None."""
    return None if comparison.get("version") == version else comparison.get("version")


def comparison_markdown(comparison: dict[str, Any], curves: str, version: str | None = None) -> list[str]:
    """Markdown lines of a comparison: each network's mean ± std (n) per metric over the test cases of every fold,
    the paired t-tests against the bundle's network, and the training curves (image ``curves``); where it was
    measured with another version of the bundle than ``version`` (the run's), which one."""
    summary = comparison["summary"]
    networks = list(dict.fromkeys(row["network"] for row in summary))
    metrics = list(dict.fromkeys(row["metric"] for row in summary))
    cell = {(row["network"], row["metric"]): row for row in summary}
    lines = [
        f"Trained with the protocol above on folds {', '.join(map(str, comparison['folds']))} in turn (validating on "
        "that fold, training on the others), each model evaluated on the test split: mean ± standard deviation (n "
        "test cases × folds), p of a paired t-test against the bundle's network (indicative: a case recurs in every "
        "fold)."
        + (
            f" Measured with version {other} of the bundle, not this run's {version}: the defaults that changed "
            "between them are in the changelog of `configs/metadata.json`."
            if (other := _other_version(comparison, version))
            else ""
        ),
        "",
        "| Network | " + " | ".join(metrics) + " | " + " | ".join(f"p {m}" for m in metrics) + " |",
        "|---" * (1 + 2 * len(metrics)) + "|",
    ]
    for network in networks:
        values = [
            f"{_cell(cell[network, m]['mean'])} ± {_cell(cell[network, m]['std'])} ({cell[network, m]['n']})"
            for m in metrics
        ]
        tests = ["—" if cell[network, m]["p_value"] is None else f"{cell[network, m]['p_value']:.3g}" for m in metrics]
        lines.append(f"| {network} | " + " | ".join(values + tests) + " |")
    if comparison.get("ensembles"):
        lines += [
            "",
            "Each network's fold models as one ensemble on the test split (the mean of their probabilities, "
            "`configs/ensemble_evaluate.json`) against the mean of the folds' models; p of a paired t-test over the "
            "test cases (ensemble against the folds' mean for the case):",
            "",
            "| Network | Metric | Each fold's model | Mean of the folds | Ensemble | p (n) |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['network']} | {r['metric']} | {r['folds']} | {_cell(r['folds_mean'])} | {_cell(r['ensemble'])} | "
            f"{r['p_value']:.3g} ({r['n']}) |"
            for r in comparison["ensembles"]
        ]
    lines += ["", f"![Training curves of every run of the comparison]({curves})"]
    return lines


def _training_line(training: dict[str, Any]) -> str:
    ran = f"{training['epochs']} of {training['max_epochs']} epochs"
    if training["epochs"] < training["max_epochs"]:
        ran += " (early stopping)"
    return (
        f"- Trained {ran}; best validation Dice {_cell(training['best_validation'])} at epoch {training['best_epoch']}"
    )


def results_markdown(results: dict[str, Any], curves: str | None = None) -> str:
    """``results.md``: what was run, on what, the test metrics and the comparison with U-Net (its training curves:
    the image ``curves``, default the comparison's own)."""
    seconds = results["seconds"]
    lines = [
        f"# {results['bundle']} on real data",
        "",
        f"- Data: `{results['data']['folder']}` (`prepare_data.py {results['data']['dataset']}`"
        + "".join(f", `--{k} {v}`" for k, v in results["data"].items() if k not in ("folder", "dataset"))
        + ")"
        + (f"; stand-in: {results['stand_in']}" if results["stand_in"] else ""),
        f"- Split (seed 0): {results['split']['train']} training, {results['split']['validation']} validation "
        f"(fold 0, model selection), {results['split']['test']} test cases",
        "- Protocol (config overrides): " + ", ".join(f"`{k}` {json.dumps(v)}" for k, v in results["protocol"].items()),
        f"- Training {seconds['train'] / 60:.1f} min, evaluation {seconds['evaluate'] / 60:.1f} min (wall time)",
        _training_line(results["training"]),
        f"- Command: `{results['command']}`",
        *([f"- Caveat: {results['caveat']}."] if results.get("caveat") else []),
        "",
        "## Test split",
        "",
        *metrics_table(results["test"], results.get("classes", ())),
    ]
    if "external_test" in results:
        external = results["external_test"]
        lines += [
            "",
            f"## External test: all of `{external['folder']}`",
            "",
            *metrics_table(external["test"], results.get("classes", ())),
        ]
    if "comparison" in results:
        comparison = results["comparison"]
        curves = curves or f"{comparison['folder']}/{CURVES}"
        lines += [
            "",
            "## Against U-Net, cross-validated",
            "",
            *comparison_markdown(comparison, curves, results.get("version")),
        ]
    return "\n".join(lines) + "\n"


def _split(data: Path) -> dict[str, int]:
    """Cases per split of a prepared dataset: training (folds 1–4), validation (fold 0) and test."""
    datalist = json.loads((data / "datalist.json").read_text(encoding="utf-8"))
    folds = [item["fold"] for item in datalist["training"]]
    return {"train": len(folds) - folds.count(0), "validation": folds.count(0), "test": len(datalist["testing"])}
