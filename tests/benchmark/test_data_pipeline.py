"""data_pipeline: every 2-D bundle has a synthetic dataset, and the quick section gives each a row."""

import json

import pytest
import torch

from custom_networks.benchmark.bundle_configs import config_file
from custom_networks.benchmark.data_pipeline import SYNTHETIC_DATA, data_pipeline, pipeline_bundles
from custom_networks.benchmark.settings import BenchmarkSettings
from custom_networks.data import GENERATORS

# the 2-D bundles of the repository
BUNDLES_2D = {
    "mildnet_dsb2018_nuclei",
    "mildnet_glas2015_histology",
    "mildnet_isbi2012_em",
    "mildnet_isic2018_dermoscopy",
    "mildnet_lgg_flair_mri",
    "msunet_lymphnode_histology",
    "multiresunet_cvc_clinicdb_endoscopy",
    "multiresunet_murphy_nuclei",
    "rescrnet_em_organelles",
    "rescrnet_fm_myofibers",
}


def test_the_2d_bundles_are_found_by_their_roi_size():
    assert set(pipeline_bundles()) == BUNDLES_2D


@pytest.mark.parametrize("bundle", sorted(BUNDLES_2D))
def test_synthetic_data_is_the_dataset_the_bundle_reads(bundle):
    data = SYNTHETIC_DATA[bundle]
    assert data.dataset in GENERATORS
    metadata = json.loads(config_file(bundle, "metadata").read_text(encoding="utf-8"))
    assert f"prepare_data.py {data.dataset}" in metadata["data_source"]


@pytest.mark.slow
def test_quick_pipeline_of_every_2d_bundle():
    rows = data_pipeline(BenchmarkSettings(torch.device("cpu"), quick=True, repeats=1))
    assert [row["bundle"] for row in rows] == sorted(BUNDLES_2D)
    for row in rows:
        assert row["section"] == "data_pipeline"
        assert row["batch_size"] == 2 and row["workers"] == 0  # quick: batch 2, no worker process
        assert row["samples_per_epoch"] >= row["images"] > 0 and row["cache_build_s"] > 0
        assert row["plain_bundle_workers_images_per_s"] > 0 and row["cached_bundle_workers_images_per_s"] > 0
        assert row["step_images_per_s"] > 0 and row["loader_vs_step"] > 0
