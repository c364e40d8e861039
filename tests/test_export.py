"""An exported bundle leaves the repository: self-contained in the Model Zoo's form, it trains, evaluates and infers
through ``python -m monai.bundle run`` in a fresh virtual environment that has MONAI, torch and the packages its
metadata lists, but not custom_networks."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import monai
import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, verify_metadata
from PIL import Image

from custom_networks.data import synthesize
from custom_networks.export import export_bundle
from custom_networks.zoo import find_bundle, metadata_schema
from tests.bundles.conftest import CASES, BundleCase

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = {c.name: c for c in CASES if c.name in ("mildnet_dsb2018_nuclei", "mildnet3d_brats_mri")}  # 2-D, 3-D
IMPORT_OF_THE_PACKAGE = re.compile(r"^\s*(from|import) custom_networks\b", flags=re.M)


def _weights(case: BundleCase, path: Path) -> Path:
    """``model.pt`` of the bundle's network at the case's tiny widths, randomly initialised."""
    parser = ConfigParser()
    parser.read_config(str(find_bundle(case.name) / "configs/inference.json"))
    parser.update(case.overrides)
    torch.save(parser.get_parsed_content("network_def").state_dict(), path)
    return path


def test_the_export_is_self_contained(tmp_path: Path):
    case = EXPORTED["mildnet_dsb2018_nuclei"]
    weights = _weights(case, tmp_path / "model.pt")
    bundle = export_bundle(
        case.name, tmp_path / "out", weights=weights, weights_url="https://example.org/m.pt", zip=True
    )
    assert bundle == tmp_path / "out" / case.name
    for name in ("LICENSE", "docs/README.md", "docs/data_license.txt", "models/model.pt", "scripts/__init__.py"):
        assert (bundle / name).is_file(), name
    vendored = list((bundle / "scripts/custom_networks").rglob("*.py"))
    assert vendored and not [p for p in vendored if IMPORT_OF_THE_PACKAGE.search(p.read_text(encoding="utf-8"))]
    assert not (bundle / "scripts/custom_networks/export.py").exists()  # the command line stays behind
    for config in (bundle / "configs").glob("*.json"):
        text = config.read_text(encoding="utf-8")
        assert '"_target_": "custom_networks.' not in text and '"$import custom_networks"' not in text, config.name
    metadata = json.loads((bundle / "configs/metadata.json").read_text(encoding="utf-8"))
    packages = metadata["required_packages_version"]
    assert "custom-networks" not in packages and {"pytorch-ignite", "tensorboard", "albumentations"} <= set(packages)
    verify_metadata(meta_file=str(bundle / "configs/metadata.json"), filepath=str(metadata_schema()))
    large_files = (bundle / "large_files.yml").read_text(encoding="utf-8")
    assert 'path: "models/model.pt"' in large_files and 'url: "https://example.org/m.pt"' in large_files
    assert hashlib.sha256(weights.read_bytes()).hexdigest() in large_files
    with zipfile.ZipFile(tmp_path / "out" / f"{case.name}_v{metadata['version']}.zip") as archive:
        zipped = {name for name in archive.namelist() if not name.endswith("/")}
    assert zipped == {str(p.relative_to(tmp_path / "out")) for p in bundle.rglob("*") if p.is_file()}


def test_an_existing_export_is_not_overwritten(tmp_path: Path):
    """Through the command line: one line, and the earlier export as it was."""
    command = [sys.executable, "-m", "custom_networks", "export", "mildnet_dsb2018_nuclei", str(tmp_path)]
    assert subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    (tmp_path / "mildnet_dsb2018_nuclei/docs/README.md").write_text("mine", encoding="utf-8")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'mildnet_dsb2018_nuclei'}: exists already; remove it or export to another folder."
    )
    assert (tmp_path / "mildnet_dsb2018_nuclei/docs/README.md").read_text(encoding="utf-8") == "mine"


def _requirements(bundles: list[Path]) -> list[str]:
    """torch, MONAI, numpy and every package the exported bundles' metadata lists, at their versions."""
    pins = {"torch": torch.__version__.split("+")[0], "monai": monai.__version__, "numpy": np.__version__}
    for bundle in bundles:
        pins.update(json.loads((bundle / "configs/metadata.json").read_text())["required_packages_version"])
    return [f"{name}=={pinned}" for name, pinned in sorted(pins.items())]


def _bare_environment(requirements: list[str]) -> Path:
    """A virtual environment with ``requirements`` only (torch first, as the project installs it), built once per
    set of requirements in the project's cache folder and kept for later runs."""
    cache = Path(os.environ.get("CUSTOM_NETWORKS_CACHE", Path.home() / ".cache/custom_networks"))
    key = hashlib.sha256(json.dumps([sys.version, requirements]).encode()).hexdigest()[:12]
    venv = cache / f"bare-{key}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "bare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").is_file():
            for old in cache.glob("bare-*"):
                shutil.rmtree(old)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet"]
            torch_pin = next(r for r in requirements if r.startswith("torch=="))
            subprocess.run([*pip, torch_pin], check=True, timeout=1800)
            subprocess.run([*pip, *requirements], check=True, timeout=1800)
            (venv / ".complete").touch()
    return venv / "bin/python"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """(python of the bare environment, {bundle name: exported bundle outside the repository with weights})."""
    tmp = tmp_path_factory.mktemp("exported")
    bundles = {
        name: export_bundle(name, tmp / "bundles", weights=_weights(case, tmp / f"{name}.pt"))
        for name, case in EXPORTED.items()
    }
    return _bare_environment(_requirements(list(bundles.values()))), bundles


def test_the_bare_environment_lacks_the_package(exported, tmp_path: Path):
    python, _ = exported
    result = subprocess.run([str(python), "-c", "import custom_networks"], cwd=tmp_path, capture_output=True)
    assert result.returncode != 0 and b"No module named 'custom_networks'" in result.stderr


def _run(python: Path, bundle: Path, case: BundleCase, configs: list[str], **overrides) -> None:
    """``python -m monai.bundle run`` from the bundle's folder, as the Model Zoo's bundles are run."""
    config_file = configs[0] if len(configs) == 1 else repr(configs)
    settings = {**case.overrides, "progress": False, **overrides}
    command = [str(python), "-m", "monai.bundle", "run", "--config_file", config_file]
    command += [f"--{key}={value if isinstance(value, str) else repr(value)}" for key, value in settings.items()]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(command, cwd=bundle, capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPORTED))
def test_the_export_prepares_trains_evaluates_and_infers_without_the_package(exported, name: str, tmp_path: Path):
    python, bundles = exported
    case, bundle = EXPORTED[name], bundles[name]
    raw = tmp_path / "raw"
    synthesize(case.dataset, raw, seed=0, **case.synth_options)
    prepare = [str(python), "scripts/prepare_data.py", case.dataset, "--src", str(raw), "--dst", str(tmp_path / "data")]
    subprocess.run([*prepare, "--progress", "False"], cwd=bundle, check=True, capture_output=True, timeout=600)
    data = tmp_path / "data"
    _run(python, bundle, case, ["configs/train.json"], dataset_dir=str(data), max_epochs=1, start_over=True)
    _run(python, bundle, case, ["configs/train.json", "configs/evaluate.json"], dataset_dir=str(data))
    metrics = (bundle / "eval/test_mean_dice_summary.csv").read_text()
    assert "mean" in metrics
    _run(python, bundle, case, ["configs/inference.json"], input_path=str(data), output_dir=str(tmp_path / "out"))
    written = sorted((tmp_path / "out").rglob(f"*{case.input_ext}"))
    assert len(written) == len(json.loads((data / "datalist.json").read_text())["testing"])
    if case.spatial_dims == 2:
        assert np.asarray(Image.open(written[0])).ndim == 2
