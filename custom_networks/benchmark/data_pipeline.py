"""``data_pipeline``: does training wait for data?

Each 2-D bundle's training transforms (``train#preprocessing`` of its ``train.json``; a bundle is 2-D when its
``roi_size`` has two entries) on a synthetic dataset in its raw layout (``custom_networks.data.synthesize`` of the
dataset the bundle is prepared from, :data:`SYNTHETIC_DATA`, 24 images at the bundle's ROI size, prepared with
``custom_networks.data.prepare``): images per second of a shuffled epoch through MONAI's ``DataLoader`` (worker start
included) from a plain ``Dataset`` and from a ``CacheDataset`` (its one-off build timed apart), with no worker process
and with the bundle's ``num_workers``; and the images per second of a training step of the bundle's network at its ROI
and batch size, to show whether training waits for data (``loader_vs_step``: the bundle's own loader, cached with its
workers, over the step). With ``--quick``: 16 images of 64 pixels, a 32² ROI, batch 2, no worker process, tiny
networks.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from monai.bundle import ConfigParser
from monai.data import CacheDataset, DataLoader, Dataset

from custom_networks.benchmark.bundle_configs import bundles_of_rank, config_file, parse_config
from custom_networks.benchmark.measures import StepTimer, median_seconds
from custom_networks.benchmark.settings import BenchmarkSettings, Row, log
from custom_networks.data import SYNTHETIC_CLASS_NAMES, SYNTHETIC_PALETTE, prepare, synthesize
from custom_networks.nets.registry import network_name

__all__ = ["COLUMNS", "SYNTHETIC_DATA", "SyntheticData", "data_pipeline", "pipeline_bundles"]

PIPELINE_IMAGES = 24
QUICK_IMAGES, QUICK_IMAGE_SIZE = 16, 64
QUICK_OVERRIDES = {"roi_size": [32, 32], "batch_size": 2, "num_workers": 0}
QUICK_MARGIN = 4  # of the bundles that stitch the centres of their windows (roi_size above twice the margin)
# tiny widths of the networks that take features (the registry's short names); MS U-Net also shallower, for 32² input
QUICK_FEATURES = {"mildnet": [4, 8, 16, 32, 64], "multiresunet": [4, 8, 16, 32, 64], "msunet": [8, 12, 24]}

COLUMNS = [
    ("bundle", "Bundle"),
    ("images", "Training images"),
    ("samples_per_epoch", "Samples / epoch"),
    ("batch_size", "Batch"),
    ("workers", "Bundle workers"),
    ("plain_no_workers_images_per_s", "No cache, no workers img/s"),
    ("plain_bundle_workers_images_per_s", "No cache, bundle workers img/s"),
    ("cache_build_s", "Cache build s"),
    ("cached_no_workers_images_per_s", "Cached, no workers img/s"),
    ("cached_bundle_workers_images_per_s", "Cached, bundle workers img/s"),
    ("step_images_per_s", "Training step img/s"),
    ("loader_vs_step", "Bundle loader ÷ training step"),
]


@dataclass(frozen=True)
class SyntheticData:
    """The synthetic stand-in of a bundle's dataset.

    Args:
        dataset: the ``custom_networks.data`` dataset the bundle is prepared from (``python scripts/prepare_data.py
            <dataset>`` in its ``metadata.json`` ``data_source``).
        options: further options of ``synthesize``.
        prepare_options: further options of ``prepare`` for the synthetic copy.
    """

    dataset: str
    options: dict[str, Any] = field(default_factory=dict)
    prepare_options: dict[str, Any] = field(default_factory=dict)


# Bundle -> its dataset. A bundle's config does not name the dataset it reads (only its metadata's free-text
# data_source does), nor the options its synthetic copy needs (index masks or the synthetic palette, LGG slices).
SYNTHETIC_DATA = {
    "mildnet_dsb2018_nuclei": SyntheticData("dsb2018"),
    "mildnet_glas2015_histology": SyntheticData("glas2015"),
    "mildnet_isbi2012_em": SyntheticData("isbi2012"),
    "mildnet_isic2018_dermoscopy": SyntheticData("isic2018"),
    "mildnet_lgg_flair_mri": SyntheticData("lgg", {"slices": 3}),
    "msunet_lymphnode_histology": SyntheticData("wsi_tiles"),
    "multiresunet_cvc_clinicdb_endoscopy": SyntheticData("cvc_clinicdb"),
    "multiresunet_murphy_nuclei": SyntheticData("murphy"),
    "rescrnet_em_organelles": SyntheticData(
        "multiclass_microscopy",
        {"colour": False},
        {"num_classes": len(SYNTHETIC_CLASS_NAMES), "class_names": list(SYNTHETIC_CLASS_NAMES)},
    ),
    "rescrnet_fm_myofibers": SyntheticData(
        "multiclass_microscopy", prepare_options={"palette": [list(colour) for colour in SYNTHETIC_PALETTE]}
    ),
}


def pipeline_bundles() -> list[str]:
    """Names of the 2-D bundles, sorted."""
    return bundles_of_rank(spatial_dims=2, config="train")


def prepared_dataset(bundle: str, size: int, count: int, folder: Path) -> Path:
    """A synthetic copy of the bundle's dataset (``count`` images of ``size`` pixels) in its raw layout under
    ``folder``, prepared as the bundle reads it; returns the prepared folder.

    Raises:
        KeyError: the bundle has no entry in :data:`SYNTHETIC_DATA`.
    """
    if bundle not in SYNTHETIC_DATA:
        raise KeyError(f"{bundle}: no synthetic dataset; add the dataset it reads to SYNTHETIC_DATA in {__name__}.")
    data = SYNTHETIC_DATA[bundle]
    raw, prepared = folder / bundle / "raw", folder / bundle / "data"
    synthesize(data.dataset, raw, count=count, size=size, seed=0, **data.options)
    prepare(data.dataset, raw, prepared, progress=False, verbose=False, **data.prepare_options)
    return prepared


def pipeline_key(kind: str, workers: int, bundle_workers: int) -> str:
    """Row key of the images per second of ``kind`` (plain or cached) with no worker or the bundle's workers."""
    return f"{kind}_{'bundle_workers' if workers == bundle_workers else 'no_workers'}_images_per_s"


def epoch_seconds(dataset: Dataset, batch_size: int, workers: int, repeats: int, warmup: bool) -> tuple[float, int]:
    """Median seconds of one shuffled epoch of ``dataset`` through MONAI's ``DataLoader`` with ``workers`` worker
    processes (their start included, as in every epoch of the bundles), and the samples it yields."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers)
    samples = 0

    def epoch() -> None:
        nonlocal samples
        samples = sum(len(batch["image"]) for batch in loader)

    if warmup:
        epoch()
    return median_seconds(epoch, torch.device("cpu"), repeats), samples


def loader_rates(data: list[Any], transform: Any, batch_size: int, bundle_workers: int, run: BenchmarkSettings) -> Row:
    """Images per second of a plain and a cached dataset with no worker and the bundle's workers, the cache's build
    seconds and the samples of an epoch."""
    row: Row = {}
    workers = sorted({0, bundle_workers})
    for w in workers:
        seconds, samples = epoch_seconds(Dataset(data, transform), batch_size, w, run.repeats, not run.quick)
        row[pipeline_key("plain", w, bundle_workers)] = samples / seconds
    start = time.perf_counter()
    cached = CacheDataset(data, transform, cache_rate=1.0, num_workers=bundle_workers or None, progress=False)
    row["cache_build_s"] = time.perf_counter() - start
    for w in workers:
        seconds, samples = epoch_seconds(cached, batch_size, w, run.repeats, not run.quick)
        row[pipeline_key("cached", w, bundle_workers)] = samples / seconds
    row["samples_per_epoch"] = samples
    return row


def quick_overrides(bundle_config: ConfigParser) -> dict[str, Any]:
    """:data:`QUICK_OVERRIDES`, with tiny widths where the bundle's network takes them and a margin that fits the
    ROI where its validation crops the windows' borders."""
    features = QUICK_FEATURES.get(network_name(type(bundle_config.get_parsed_content("network_def"))))
    margin = {"margin": QUICK_MARGIN} if "margin" in bundle_config else {}
    return QUICK_OVERRIDES | ({"features": features} if features else {}) | margin


def bundle_pipeline(bundle: str, folder: Path, run: BenchmarkSettings) -> Row:
    """The data pipeline and training step of one bundle on a synthetic dataset prepared under ``folder``."""
    train_file = config_file(bundle, "train")
    bundle_config = parse_config(train_file)
    if run.quick:
        size, count, overrides = QUICK_IMAGE_SIZE, QUICK_IMAGES, quick_overrides(bundle_config)
    else:
        size, count, overrides = max(bundle_config.get_parsed_content("roi_size")), PIPELINE_IMAGES, {}
    log(f"[data_pipeline] {bundle}: preparing a synthetic dataset ...")
    dataset_dir = prepared_dataset(bundle, size, count, folder)
    parser = parse_config(
        train_file, {**overrides, "dataset_dir": str(dataset_dir), "device": f"$torch.device({str(run.device)!r})"}
    )
    data = parser.get_parsed_content("train#dataset#data")
    batch_size, bundle_workers = parser.get_parsed_content("batch_size"), parser.get_parsed_content("num_workers")
    row: Row = {"bundle": bundle, "images": len(data), "batch_size": batch_size, "workers": bundle_workers}
    row |= loader_rates(data, parser.get_parsed_content("train#preprocessing"), batch_size, bundle_workers, run)
    row["loader_images_per_s"] = row[pipeline_key("cached", bundle_workers, bundle_workers)]
    net = parser.get_parsed_content("network_def").to(run.device)
    x = torch.rand(
        batch_size, parser.get_parsed_content("in_channels"), *parser.get_parsed_content("roi_size"), device=run.device
    )
    log(f"[data_pipeline] {bundle}: training step of {type(net).__name__} on {tuple(x.shape)} ...")
    step = StepTimer(net, x, parser.get_parsed_content("out_channels")).train(run.repeats)
    row["step_images_per_s"] = batch_size / step["train_s"]
    row["loader_vs_step"] = row["loader_images_per_s"] / row["step_images_per_s"]
    return row


def data_pipeline(run: BenchmarkSettings) -> list[Row]:
    """Per 2-D bundle: images per second through its training transforms (``train#preprocessing``) without and
    with MONAI's ``CacheDataset``, with no worker process and with the bundle's ``num_workers``, against the images
    per second of a training step of the bundle's network at its ROI and batch size."""
    with tempfile.TemporaryDirectory(prefix="benchmark_") as tmp:
        return [
            {"section": "data_pipeline", **bundle_pipeline(bundle, Path(tmp), run)} for bundle in pipeline_bundles()
        ]
