"""training_epochs: the parts of an epoch add up on an Ignite engine with known costs, and the quick section gives
every 2-D bundle and the quick start a row."""

import time

import pytest
import torch
from ignite.engine import Engine, Events
from ignite.handlers import HandlersTimeProfiler

from custom_networks.benchmark.bundle_configs import config_file, parse_config
from custom_networks.benchmark.data_pipeline import (
    QUICK_IMAGE_SIZE,
    QUICK_IMAGES,
    pipeline_bundles,
    prepared_dataset,
    quick_overrides,
)
from custom_networks.benchmark.settings import BenchmarkSettings
from custom_networks.benchmark.training_epochs import (
    DEMO_BUNDLE,
    FRESH_VALIDATION_WORKERS,
    EpochClock,
    epoch_breakdown,
    isolated_training,
    network_class,
    training_epochs,
)

STEP, CHECKPOINT, VALIDATION, LOGGING = 0.02, 0.03, 0.05, 0.01


class SlowCheckpointSaver:
    def __call__(self, engine: Engine) -> None:
        time.sleep(CHECKPOINT)


class SlowValidationHandler:
    def __call__(self, engine: Engine) -> None:
        time.sleep(VALIDATION)


class SlowStatsHandler:
    def iteration_completed(self, engine: Engine) -> None:
        time.sleep(LOGGING)


def test_breakdown_of_an_engine_with_known_costs():
    engine = Engine(lambda engine, batch: time.sleep(STEP))
    engine.add_event_handler(Events.EPOCH_COMPLETED, SlowCheckpointSaver())
    engine.add_event_handler(Events.EPOCH_COMPLETED, SlowValidationHandler())
    engine.add_event_handler(Events.ITERATION_COMPLETED, SlowStatsHandler().iteration_completed)
    profiler, clock = HandlersTimeProfiler(), EpochClock()
    profiler.attach(engine)
    clock.attach(engine)
    engine.run(range(4), max_epochs=3)

    row = epoch_breakdown(profiler, clock, epoch_length=4)
    # each cost in its own part (the bounds tell them apart, with room for a busy machine's late wake-ups)
    assert 4 * STEP <= row["steps_s"] < 4 * STEP + CHECKPOINT
    assert CHECKPOINT <= row["checkpoint_s"] < VALIDATION
    assert 4 * LOGGING <= row["logging_s"] < 4 * LOGGING + CHECKPOINT
    assert VALIDATION <= row["validation_s"] < VALIDATION + CHECKPOINT
    # the epoch (its validation apart) is its steps, handlers and waits, and nothing more to speak of
    parts = sum(row[k] for k in ("steps_s", "data_s", "checkpoint_s", "logging_s", "metrics_s"))
    assert parts <= row["epoch_s"] < parts + STEP
    assert row["epoch_vs_steps"] == pytest.approx(row["epoch_s"] / row["steps_s"])


@pytest.mark.parametrize("bundle", pipeline_bundles())
def test_network_class_without_building_it(bundle):
    """``--networks`` chooses the bundles by the class their ``network_def`` builds."""
    train = parse_config(config_file(bundle, "train"))
    assert network_class(train) == type(train.get_parsed_content("network_def")).__name__


@pytest.mark.slow
def test_quick_section_of_every_2d_bundle_and_the_quick_start():
    rows = training_epochs(BenchmarkSettings(torch.device("cpu"), quick=True, repeats=1))
    assert [(row["bundle"], row["settings"]) for row in rows] == [
        *((bundle, "defaults") for bundle in pipeline_bundles()),
        (DEMO_BUNDLE, "defaults, validation workers started for each validation"),
        (DEMO_BUNDLE, "quick start"),
    ]
    assert not any(row["validation_workers_kept"] for row in rows)  # quick: no workers
    for row in rows:
        assert row["section"] == "training_epochs" and row["images"] > 0 and row["workers"] == 0
        assert 0 < row["steps_s"] <= row["epoch_s"] and row["validation_s"] > 0
        assert 0 < row["validation_share"] < 1 and row["other_s"] > -0.01
        # the share counts the bundle's whole epoch (its repeats or patches per image) at its validation interval
        training = row["val_interval"] * row["passes"] * row["epoch_s"]
        assert row["validation_share"] == pytest.approx(row["validation_s"] / (row["validation_s"] + training))
    passes = {row["bundle"]: row["passes"] for row in rows if row["settings"] == "defaults"}
    assert passes["mildnet_glas2015_histology"] == 11 and passes["mildnet_isbi2012_em"] == 4
    assert passes["rescrnet_em_organelles"] == 15 and passes["mildnet_dsb2018_nuclei"] == 1
    assert rows[-1]["val_interval"] == 5  # the quick start validates every 5 epochs (scripts/demo.sh)


@pytest.mark.slow
def test_a_run_in_its_own_process(tmp_path):
    """The full section trains each bundle in a fresh process: its row comes back whole."""
    bundle = "multiresunet_murphy_nuclei"
    data = prepared_dataset(bundle, QUICK_IMAGE_SIZE, QUICK_IMAGES, tmp_path)
    overrides = quick_overrides(parse_config(config_file(bundle, "train")))
    row = isolated_training(bundle, data, tmp_path / "run", epochs=2, overrides=overrides)
    assert row["images"] > 0 and 0 < row["steps_s"] <= row["epoch_s"] and row["validation_s"] > 0


WORKERS_KEPT = [({}, True), ({"num_workers": 0}, False), (FRESH_VALIDATION_WORKERS, False)]


@pytest.mark.parametrize(("overrides", "kept"), WORKERS_KEPT)
def test_the_validation_loader_keeps_its_workers_where_it_has_some(tmp_path, overrides, kept):
    """Bundles 0.8.1: the validation loader's workers live from one validation to the next (its transforms are
    deterministic); without workers there is nothing to keep, and the benchmark's before-row starts them anew."""
    train = parse_config(config_file(DEMO_BUNDLE, "train"), {"dataset_dir": str(tmp_path), **overrides})
    assert train.get_parsed_content("validate#dataloader").persistent_workers is kept
