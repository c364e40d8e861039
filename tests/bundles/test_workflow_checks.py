"""MONAI's workflow checks pass for every bundle without any data or trained model, as the Model Zoo's CI runs them:
the bundles check their data and model when they run, not while their configs are parsed."""

from __future__ import annotations

from pathlib import Path

import pytest
from monai.bundle import create_workflow

from custom_networks.zoo import bundle_names, find_bundle

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workflow_type", ["train", "infer"])
@pytest.mark.parametrize("bundle", bundle_names())
def test_workflow_properties_without_data(bundle: str, workflow_type: str, tmp_path: Path):
    configs = find_bundle(bundle) / "configs"
    workflow = create_workflow(
        config_file=str(configs / ("train.json" if workflow_type == "train" else "inference.json")),
        workflow_type=workflow_type,
        bundle_root=str(tmp_path),
        dataset_dir=str(tmp_path / "no_data"),
    )
    assert workflow.check_properties() == []
