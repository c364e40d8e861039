"""``training_epochs``: is a training epoch as fast as its steps, and what does validation cost?

Each 2-D bundle's whole training workflow (its ``train.json`` through MONAI's ``ConfigWorkflow``, as ``python -m
monai.bundle run training`` builds it: its data loaders, workers, handlers, validation and checkpoints) at its defaults,
but each image once per epoch (:data:`ONE_PASS`), on a synthetic copy of its dataset
(:data:`~custom_networks.benchmark.data_pipeline.SYNTHETIC_DATA`, :data:`EPOCH_IMAGES` images at the bundle's ROI size,
or the publishers' size where the bundle tiles its images, :data:`IMAGE_SIDES`),
and the default bundle at the quick start's settings on the real DSB-2018 sample it trains on (``demo/dsb2018_sample``,
``scripts/demo.sh``'s options). Each runs :data:`EPOCHS` epochs and validates after every one; Ignite's
``HandlersTimeProfiler`` on the trainer times each wait for a batch, each step and each handler. The first epoch
(warm-up: first calls, lazily built caches) is left out; the other epochs are averaged:

- ``epoch_s``: wall seconds of an epoch without its validation (from one epoch's start to the next's, less the
  validation handler); ``steps_s``: the trainer's iterations (batch to device, forward, loss, backward, optimiser);
  ``epoch_vs_steps``: their ratio (goal at most 1.1).
- the rest of the epoch, split into ``data_s`` (waiting for batches), of it ``worker_start_s`` (the first batch's
  wait beyond the median wait: the loader's workers start anew each epoch), ``checkpoint_s`` (the trainer's
  checkpoint writes), ``logging_s`` (stats, TensorBoard, progress bar), ``metrics_s`` (the training metric and
  post-processing, the other handlers) and ``other_s`` (what no timer saw: between engine events);
- ``augmentation_s``: CPU seconds of one pass over the training dataset's random transforms in this process (the
  part of data loading that runs every epoch; with workers it overlaps the steps);
- ``validation_s``: one validation pass (the evaluator with its sliding window, metrics and best-model checkpoint),
  and ``validation_share``: its share of the training time at the bundle's ``val_interval`` (goal at most 0.1), with
  ``passes`` one-pass epochs making one of the bundle's epochs (its ``epoch_repeats`` or ``patches_per_image``; the
  steps and data of an epoch grow with them, its validation does not).

The default bundle is measured once more with its validation loader's workers started anew for every validation
(:data:`FRESH_VALIDATION_WORKERS`, as up to bundles 0.8.0), so that what keeping them saves is measured in one run;
``validation_workers_kept`` says which a row had.

Each run trains in a fresh process (in this one with ``--quick``). ``--networks`` chooses the bundles by their network's
class. With ``--quick``: the quick overrides of ``data_pipeline`` (tiny networks, 32² ROI, batch 2, no workers), 16
images of 64 pixels, 2 epochs, and the quick-start row on 8 of the sample's images.
"""

from __future__ import annotations

import math
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ignite.engine import Engine, Events
from ignite.handlers import HandlersTimeProfiler
from monai.bundle import ConfigParser, ConfigWorkflow

from custom_networks.benchmark.bundle_configs import config_file, parse_config
from custom_networks.benchmark.data_pipeline import (
    QUICK_IMAGE_SIZE,
    QUICK_IMAGES,
    pipeline_bundles,
    prepared_dataset,
    quick_overrides,
)
from custom_networks.benchmark.measures import in_fresh_process
from custom_networks.benchmark.settings import BenchmarkSettings, Row, log
from custom_networks.data import prepare

__all__ = [
    "COLUMNS",
    "DEMO_BUNDLE",
    "DEMO_OVERRIDES",
    "EPOCHS",
    "FRESH_VALIDATION_WORKERS",
    "IMAGE_SIDES",
    "EpochClock",
    "default_overrides",
    "epoch_breakdown",
    "isolated_training",
    "passes_per_epoch",
    "profiled_training",
    "training_epochs",
]

EPOCHS, QUICK_EPOCHS = 2, 2
EPOCH_IMAGES = 20  # about 11 of them in the training split (GlaS needs 10 cases for its test split and 5 folds)
DEMO_BUNDLE = "mildnet_dsb2018_nuclei"
DEMO_SAMPLE = Path(__file__).resolve().parents[2] / "demo" / "dsb2018_sample"
# scripts/demo.sh's NET and FAST options and its val_interval (bfloat16 autocast only where the CPU has it: not
# measured here)
DEMO_OVERRIDES = {
    "features": [16, 32, 64, 128, 256],
    "roi_size": [128, 128],
    "num_workers": 0,
    "channels_last": True,
    "val_interval": 5,
}
QUICK_DEMO_IMAGES = 8
# the validation loader as up to bundles 0.8.0: its workers started anew for every validation
FRESH_VALIDATION_WORKERS = {"validate#dataloader#persistent_workers": False}
# each image once per epoch: Res-CR-Net's bundles repeat their images 15 times an epoch, the tiled MILDNet bundles
# draw 4 or 11 patches per image; the epoch's fixed costs weigh more than at the defaults
ONE_PASS = {"epoch_repeats": 1, "patches_per_image": 1}
# the publishers' image side where a bundle validates by tiling whole images with the centres of its windows (ISBI-2012:
# 512 x 512; GlaS: about 775 x 522, as a square of that area): at the ROI's size one image would take 4 windows to
# validate against the one patch it trains on, where a real one takes about as many windows as its patches_per_image
IMAGE_SIDES = {"mildnet_isbi2012_em": 512, "mildnet_glas2015_histology": 640}
# events that fire once per iteration (their handlers' times are grouped by epoch length)
ITERATION_EVENTS = (
    Events.ITERATION_STARTED,
    Events.ITERATION_COMPLETED,
    Events.GET_BATCH_STARTED,
    Events.GET_BATCH_COMPLETED,
)

# handler name fragments (HandlersTimeProfiler names a handler by its qualified name) -> the part of the epoch
HANDLER_KINDS = {
    "validation": ("ValidationHandler",),
    "checkpoint": ("Checkpoint",),
    "logging": ("StatsHandler", "ProgressBar", "MLFlowHandler"),
}

COLUMNS = [
    ("bundle", "Bundle"),
    ("settings", "Settings"),
    ("images", "Training images"),
    ("batch_size", "Batch"),
    ("workers", "Workers"),
    ("epoch_s", "Epoch s"),
    ("steps_s", "Steps s"),
    ("epoch_vs_steps", "Epoch ÷ steps"),
    ("data_s", "Data wait s"),
    ("worker_start_s", "of it worker start s"),
    ("augmentation_s", "Augmentation CPU s"),
    ("checkpoint_s", "Checkpoint s"),
    ("logging_s", "Logging s"),
    ("metrics_s", "Metrics s"),
    ("other_s", "Other s"),
    ("validation_s", "Validation s"),
    ("val_interval", "val_interval"),
    ("passes", "One-pass epochs per epoch"),
    ("validation_share", "Validation share"),
    ("error", "Error"),
]


def handler_kind(name: str) -> str:
    """The part of the epoch a trainer handler named ``name`` belongs to (``metrics`` when no other)."""
    return next((kind for kind, parts in HANDLER_KINDS.items() if any(part in name for part in parts)), "metrics")


class EpochClock:
    """The start time of every epoch of an engine, and the end of its run."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.end = 0.0

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.EPOCH_STARTED, lambda _: self.starts.append(time.perf_counter()))
        engine.add_event_handler(Events.COMPLETED, lambda _: setattr(self, "end", time.perf_counter()))

    def seconds(self) -> list[float]:
        """Wall seconds of each epoch, from its start to the next one's (the last: to the end of the run)."""
        ends = [*self.starts[1:], self.end]
        return [end - start for start, end in zip(self.starts, ends, strict=True)]


def _per_epoch(times: list[float], epoch_length: int) -> list[list[float]]:
    return [times[i : i + epoch_length] for i in range(0, len(times), epoch_length)]


def epoch_breakdown(profiler: HandlersTimeProfiler, clock: EpochClock, epoch_length: int) -> Row:
    """Mean seconds per epoch (the first left out) of each part of the epoch (see the module docstring)."""
    epochs = len(clock.starts)
    parts: dict[str, list[float]] = {kind: [0.0] * epochs for kind in [*HANDLER_KINDS, "metrics"]}
    for event, handlers in profiler.event_handlers_times.items():
        for name, times in handlers.items():
            per_iteration = event in ITERATION_EVENTS
            if len(times) != epochs * (epoch_length if per_iteration else 1):  # once per run, or filtered
                continue
            kind = handler_kind(name)
            per_epoch = _per_epoch(times, epoch_length) if per_iteration else [[t] for t in times]
            for epoch, epoch_times in enumerate(per_epoch):
                parts[kind][epoch] += sum(epoch_times)
    waits = _per_epoch(profiler.dataflow_times, epoch_length)
    steps = [sum(epoch) for epoch in _per_epoch(profiler.processing_times, epoch_length)]
    wall = clock.seconds()
    row: Row = {}
    timed = range(1, epochs) if epochs > 1 else range(epochs)
    mean = statistics.fmean
    row["validation_s"] = mean(parts["validation"][e] for e in timed)
    row["epoch_s"] = mean(wall[e] - parts["validation"][e] for e in timed)
    row["steps_s"] = mean(steps[e] for e in timed)
    row["data_s"] = mean(sum(waits[e]) for e in timed)
    row["worker_start_s"] = mean(max(0.0, waits[e][0] - statistics.median(waits[e])) for e in timed)
    for kind in ("checkpoint", "logging", "metrics"):
        row[f"{kind}_s"] = mean(parts[kind][e] for e in timed)
    accounted = ("steps_s", "data_s", "checkpoint_s", "logging_s", "metrics_s")
    row["other_s"] = row["epoch_s"] - sum(row[key] for key in accounted)
    row["epoch_vs_steps"] = row["epoch_s"] / row["steps_s"]
    return row


def augmentation_seconds(dataset: Any) -> float:
    """Seconds of one pass over ``dataset`` in this process (a ``CacheDataset`` runs only its random transforms)."""
    start = time.perf_counter()
    for index in range(len(dataset)):
        dataset[index]
    return time.perf_counter() - start


def profiled_training(bundle: str, dataset_dir: Path, bundle_root: Path, epochs: int, overrides: dict) -> Row:
    """Train ``bundle`` for ``epochs`` epochs (validation after each) with its ``train.json`` and ``overrides``; the
    epoch's parts (:func:`epoch_breakdown`), the run's settings and the augmentation's seconds."""
    val_interval = parse_config(config_file(bundle, "train"), overrides).get_parsed_content("val_interval")
    passes = passes_per_epoch(parse_config(config_file(bundle, "train")))
    workflow = ConfigWorkflow(
        config_file=str(config_file(bundle, "train")),
        meta_file=str(config_file(bundle, "metadata")),
        logging_file=False,
        workflow_type="train",
        **{
            **overrides,
            "bundle_root": str(bundle_root),
            "dataset_dir": str(dataset_dir),
            "max_epochs": epochs,
            "val_interval": 1,
            "early_stop_patience": epochs + 1,
            "progress": False,
        },
    )
    workflow.initialize()
    trainer = workflow.parser.get_parsed_content("train#trainer")
    profiler, clock = HandlersTimeProfiler(), EpochClock()
    profiler.attach(trainer)
    clock.attach(trainer)
    workflow.run()
    workflow.finalize()
    dataset = workflow.parser.get_parsed_content("train#dataset")
    row = epoch_breakdown(profiler, clock, trainer.state.epoch_length)
    row["validation_share"] = row["validation_s"] / (row["validation_s"] + val_interval * passes * row["epoch_s"])
    row |= {
        "images": len(dataset),
        "batch_size": workflow.parser.get_parsed_content("batch_size"),
        "workers": workflow.parser.get_parsed_content("num_workers"),
        "val_interval": val_interval,
        "passes": passes,
        "validation_workers_kept": workflow.parser.get_parsed_content("validate#dataloader").persistent_workers,
        "augmentation_s": augmentation_seconds(dataset),
    }
    return row


def _default_start_method() -> None:
    """The platform's default start method for the data loaders' workers (``fork`` on Linux), as in a process of its
    own: a spawned process would start them with ``spawn`` too, each worker importing everything anew."""
    multiprocessing.set_start_method(multiprocessing.get_all_start_methods()[0], force=True)


def isolated_training(bundle: str, dataset_dir: Path, bundle_root: Path, epochs: int, overrides: dict) -> Row:
    """:func:`profiled_training` in a fresh process, as ``monai.bundle run`` trains: no memory, allocator setting or
    cache of an earlier bundle's run carries over. A process killed on the way (out of memory) gives a row with
    ``error`` and no timings."""
    try:
        arguments = (bundle, dataset_dir, bundle_root, epochs, overrides)
        return in_fresh_process(profiled_training, *arguments, initializer=_default_start_method)
    except BrokenProcessPool as error:
        log(f"[training_epochs] {bundle}: the training process died ({error}); no row")
        return {"error": "the training process died (out of memory?)"}


def demo_dataset(folder: Path, images: int | None) -> Path:
    """The quick start's data: the DSB-2018 sample (its first ``images`` cases, all if None) prepared as
    ``scripts/demo.sh`` prepares it."""
    source = DEMO_SAMPLE
    if images is not None:
        source = folder / "sample"
        (source / "stage1_train").mkdir(parents=True)
        for case in sorted((DEMO_SAMPLE / "stage1_train").iterdir())[:images]:
            (source / "stage1_train" / case.name).symlink_to(case, target_is_directory=True)
    prepare("dsb2018", source, folder / "data", progress=False, verbose=False)
    return folder / "data"


def one_pass(train: ConfigParser) -> dict[str, int]:
    """:data:`ONE_PASS`'s settings that the bundle's ``train.json`` has."""
    return {key: value for key, value in ONE_PASS.items() if key in train}


def default_overrides(train: ConfigParser, quick: bool) -> dict[str, Any]:
    """A bundle's overrides at its defaults (``train``): each image once per epoch, and with ``quick`` tiny."""
    return one_pass(train) | (quick_overrides(train) if quick else {})


def passes_per_epoch(train: ConfigParser) -> int:
    """How many epochs of :data:`ONE_PASS` make one epoch of the bundle at its defaults (``train``)."""
    return math.prod(train.get_parsed_content(key) for key in one_pass(train))


def network_class(train: ConfigParser) -> str:
    """The class name of the bundle's network, from its ``network_def``'s ``_target_`` (nothing is built)."""
    return str(train["network_def"]["_target_"]).rsplit(".", 1)[-1]


def training_epochs(run: BenchmarkSettings) -> list[Row]:
    """Per 2-D bundle at its defaults, and the default bundle at the quick start's settings: the parts of a training
    epoch against its steps, and the cost of a validation pass (see the module docstring)."""
    epochs = QUICK_EPOCHS if run.quick else EPOCHS
    profile = profiled_training if run.quick else isolated_training
    device = {"device": f"$torch.device({str(run.device)!r})"}
    rows = []
    with tempfile.TemporaryDirectory(prefix="benchmark_") as tmp:
        defaults = {}  # bundle -> (its synthetic dataset, its overrides at its defaults)
        for bundle in pipeline_bundles():
            train = parse_config(config_file(bundle, "train"))
            if run.networks and network_class(train) not in run.networks:
                continue
            size = QUICK_IMAGE_SIZE if run.quick else IMAGE_SIDES.get(bundle, max(train.get_parsed_content("roi_size")))
            log(f"[training_epochs] {bundle}: {epochs} epochs on a synthetic dataset ...")
            data = prepared_dataset(bundle, size, QUICK_IMAGES if run.quick else EPOCH_IMAGES, Path(tmp))
            overrides = default_overrides(train, run.quick) | device
            defaults[bundle] = data, overrides
            row = profile(bundle, data, Path(tmp) / bundle / "run", epochs, overrides)
            rows.append({"section": "training_epochs", "bundle": bundle, "settings": "defaults", **row})
        if DEMO_BUNDLE not in defaults:
            return rows
        log(f"[training_epochs] {DEMO_BUNDLE}: again, its validation workers started for every validation ...")
        data, overrides = defaults[DEMO_BUNDLE]
        row = profile(DEMO_BUNDLE, data, Path(tmp) / "fresh_workers", epochs, overrides | FRESH_VALIDATION_WORKERS)
        settings = "defaults, validation workers started for each validation"
        rows.append({"section": "training_epochs", "bundle": DEMO_BUNDLE, "settings": settings, **row})
        log(f"[training_epochs] {DEMO_BUNDLE}: {epochs} epochs at the quick start's settings on its real sample ...")
        data = demo_dataset(Path(tmp) / "demo", QUICK_DEMO_IMAGES if run.quick else None)
        overrides = DEMO_OVERRIDES | (
            quick_overrides(parse_config(config_file(DEMO_BUNDLE, "train"))) if run.quick else {}
        )
        row = profile(DEMO_BUNDLE, data, Path(tmp) / "demo" / "run", epochs, overrides | device)
        rows.append({"section": "training_epochs", "bundle": DEMO_BUNDLE, "settings": "quick start", **row})
    return rows
