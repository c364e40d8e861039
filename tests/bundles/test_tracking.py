"""MONAI's experiment tracking with the bundles' training configs: ``--tracking mlflow`` records a training run, its
losses, validation metrics and executed config in a local MLflow store (the ``tracking`` extra)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mlflow
import pytest
from monai.utils import path_to_sqlite_uri

from tests.bundles.conftest import CASES_2D, bundle_command, prepared_data

pytestmark = pytest.mark.slow
CASE = next(c for c in CASES_2D if c.name == "mildnet_dsb2018_nuclei")


def test_training_is_tracked_in_a_local_mlflow_store(tmp_path: Path):
    data = prepared_data(CASE, tmp_path)
    bundle_root = tmp_path / "bundle"
    command = bundle_command(CASE, bundle_root, data, "train.json", max_epochs=2, val_interval=1)
    command += ["--tracking", "mlflow", "--experiment_name", "dsb_tracking"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "no config of the bundle has this key" not in result.stdout + result.stderr  # MLflow's settings are known
    client = mlflow.MlflowClient(tracking_uri=path_to_sqlite_uri(str(bundle_root / "eval/mlruns.db")))
    experiment = client.get_experiment_by_name("dsb_tracking")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert {"train_loss", "val_mean_dice", "val_mean_iou"} <= set(run.data.metrics)
    assert len(client.get_metric_history(run.info.run_id, "val_mean_dice")) == 2  # one value per validated epoch
    assert run.data.params["max_epochs"] == "2"
    assert [a.path for a in client.list_artifacts(run.info.run_id)][0].startswith("config_")  # the executed config
