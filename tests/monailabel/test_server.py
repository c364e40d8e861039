"""MONAI Label serves the bundles for real: ``scripts/monailabel_app.sh`` builds MONAI Label's own environment when
missing, makes a monaibundle app with every bundle exported into its ``model/`` (custom_networks vendored, no
``PYTHONPATH``) and starts the server on 127.0.0.1; the tests use its REST API as an annotation client does (info,
inference, labels saved to the datastore, training).

Checkpoints are the bundles' own ``network_def`` at random initialisation, saved as training saves ``model.pt``.
Without MONAI Label's environment (it is built from PyPI) the tests fail, they do not skip.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import requests
import torch
from monai.bundle import ConfigParser
from PIL import Image

from custom_networks.zoo import bundle_names, bundles_root

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = bundle_names()
BUNDLE_2D, BUNDLE_3D = "mildnet_dsb2018_nuclei", "mildnet3d_brats_mri"
NUCLEI_SHAPE = (192, 256)  # H x W of the PNG studies: not square, so a transposed mask fails
BRAIN_SHAPE, BRAIN_SPACING = (48, 40, 36), (2.0, 1.5, 2.5)  # anisotropic, so the mask must be resampled back
BUILD_TIMEOUT = 1800  # s, building MONAI Label's environment from nothing (about 3 min here)
START_TIMEOUT = 300  # s, until the server answers
BUDGET = 1500  # s, everything the server does for this module, starting and two trainings included
REQUEST_TIMEOUT = 300  # s, one inference or datastore request


@dataclass
class Server:
    """A running MONAI Label server, its app folder and log, and the time by which the module must be done."""

    url: str
    app: Path
    log: Path
    deadline: float

    def log_tail(self, lines: int = 150) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def call(self, method: str, path: str, timeout: float = REQUEST_TIMEOUT, **kwargs) -> requests.Response:
        """One request, bounded by ``timeout`` and by what is left of the budget; fails on an HTTP error."""
        left = self.deadline - time.monotonic()
        assert left > 0, f"MONAI Label tests ran past their {BUDGET} s budget"
        response = requests.request(method, self.url + path, timeout=min(timeout, left), **kwargs)
        assert response.ok, f"{method} {path}: HTTP {response.status_code}: {response.text[:1000]}"
        return response

    def info(self) -> dict:
        return self.call("GET", "/info/").json()

    def infer(self, model: str, image: str) -> bytes:
        return self.call("POST", f"/infer/{model}", params={"image": image, "output": "image"}).content

    def save_label(self, image: str, label: Path) -> None:
        with open(label, "rb") as f:
            self.call("PUT", "/datastore/label", params={"image": image, "tag": "final"}, files={"label": f})

    def remove_label(self, image: str) -> None:
        self.call("DELETE", "/datastore/label", params={"id": image, "tag": "final"})

    def train(self, model: str, max_epochs: int) -> dict:
        """Train ``model`` on the labelled studies (half for validation) as a client does and wait for the end;
        returns the finished task."""
        device = self.info()["trainers"][model]["config"]["device"][0]
        params = {"max_epochs": max_epochs, "val_split": 0.5, "device": device, "multi_gpu": False}
        task = self.call("POST", f"/train/{model}", json=params).json()
        while True:
            status = self.call("GET", "/train/").json()
            if status["id"] == task["id"] and status["status"] in ("DONE", "ERROR"):
                return status
            time.sleep(2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metadata(bundle: str) -> dict:
    return json.loads((bundles_root() / bundle / "configs/metadata.json").read_text())


def bundle_with_checkpoint(name: str, dst: Path) -> Path:
    """A copy of bundle ``name`` in ``dst`` whose models/model.pt holds its ``network_def`` at random initialisation."""
    bundle = shutil.copytree(bundles_root() / name, dst / name, ignore=shutil.ignore_patterns("models", "eval", "logs"))
    parser = ConfigParser()
    parser.read_config(str(bundle / "configs/inference.json"))
    torch.manual_seed(0)
    (bundle / "models").mkdir()
    torch.save(parser.get_parsed_content("network_def").state_dict(), bundle / "models/model.pt")
    return bundle


def nuclei_study(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(H x W x 3 uint8 image of bright disks on a dark background, H x W label of the disks: 0 / 1)."""
    yy, xx = np.mgrid[: NUCLEI_SHAPE[0], : NUCLEI_SHAPE[1]]
    label = np.zeros(NUCLEI_SHAPE, np.uint8)
    centres = rng.integers(15, np.array(NUCLEI_SHAPE) - 15, (12, 2))
    for (cy, cx), r in zip(centres, rng.integers(5, 14, 12), strict=True):
        label[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
    image = label[..., None] * rng.integers(120, 215, 3) + rng.integers(0, 40, (*NUCLEI_SHAPE, 3))
    return image.astype(np.uint8), label


def brain_study(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(X x Y x Z x 4 float32 MRI-like volume: T1, T1ce, T2, FLAIR; X x Y x Z BraTS label of a nested tumour:
    2 edema, 1 core, 4 enhancing)."""
    centre = np.array(BRAIN_SHAPE) / 2 + rng.uniform(-3, 3, 3)
    radius = np.linalg.norm(
        (np.moveaxis(np.indices(BRAIN_SHAPE), 0, -1) - centre) / (np.array(BRAIN_SHAPE) / 4), axis=-1
    )
    label = np.select([radius < 0.3, radius < 0.6, radius < 1.0], [4, 1, 2], 0).astype(np.uint8)
    contrast = np.array([[0.0, 0.0, 0.0, 0.0], [0.2, 0.5, 1.0, 1.5], [-0.3, 0.2, 0.8, 0.4], [0.1, 1.5, 0.6, 0.8]])
    levels = contrast[np.searchsorted([0, 1, 2, 4], label)]
    volume = 1.0 + levels + rng.normal(0, 0.1, (*BRAIN_SHAPE, 4))
    return volume.astype(np.float32), label


def brain_affine() -> np.ndarray:
    affine = np.diag([*BRAIN_SPACING, 1.0])
    affine[:3, 3] = (-40.0, 12.5, 3.0)
    return affine


def write_studies(studies: Path, labels: Path) -> None:
    """Two PNG and two NIfTI studies in ``studies``; their labels, for uploading, in ``labels``."""
    rng = np.random.default_rng(0)
    for folder in (studies, labels):
        folder.mkdir()
    for i in range(2):
        image, label = nuclei_study(rng)
        Image.fromarray(image).save(studies / f"nuclei_{i}.png")
        Image.fromarray(label).save(labels / f"nuclei_{i}.png")
        volume, label = brain_study(rng)
        nib.save(nib.Nifti1Image(volume, brain_affine()), studies / f"brain_{i}.nii.gz")
        nib.save(nib.Nifti1Image(label, brain_affine()), labels / f"brain_{i}.nii.gz")


@pytest.fixture(scope="module")
def monailabel_env() -> Path:
    """MONAI Label's environment (built by scripts/setup_monailabel.sh when missing)."""
    try:
        result = subprocess.run(
            ["bash", str(ROOT / "scripts/setup_monailabel.sh")],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"building MONAI Label's environment took more than {BUILD_TIMEOUT} s: {error}")
    if result.returncode != 0:
        pytest.fail(
            f"MONAI Label's environment could not be built (scripts/setup_monailabel.sh exited {result.returncode}; "
            f"it installs from PyPI):\n{result.stderr[-3000:]}"
        )
    return Path(result.stdout.split()[-1])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the studies (``studies/``) and, for the client to upload, their labels (``labels/``)."""
    tmp = tmp_path_factory.mktemp("monailabel")
    write_studies(tmp / "studies", tmp / "labels")
    return tmp


@pytest.fixture(scope="module")
def server(monailabel_env: Path, workdir: Path) -> Iterator[Server]:
    """MONAI Label on a free port of 127.0.0.1, started by scripts/monailabel_app.sh with every bundle; stopped with
    its process group (the training processes included) at the end."""
    deadline = time.monotonic() + BUDGET
    bundles = [bundle_with_checkpoint(name, workdir / "bundles") for name in BUNDLES]
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}", app=workdir / "app", log=workdir / "server.log", deadline=deadline)
    script = ROOT / "scripts/monailabel_app.sh"
    command = ["bash", str(script), "--port", str(port), str(server.app), str(workdir / "studies"), *map(str, bundles)]
    with open(server.log, "w") as log:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the exports need nothing of the clone
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    start_deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            assert process.poll() is None, f"the server exited with {process.returncode}:\n{server.log_tail()}"
            assert time.monotonic() < start_deadline, f"no answer in {START_TIMEOUT} s:\n{server.log_tail()}"
            try:
                if requests.get(f"{server.url}/info/", timeout=10).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(1)
        yield server
    finally:
        stop_group(process)
        for folder in ("app", "bundles"):  # about 1.6 GB of checkpoints
            shutil.rmtree(workdir / folder, ignore_errors=True)


def stop_group(process: subprocess.Popen) -> None:
    """Stop ``process`` and every process of its group: SIGTERM, then SIGKILL after 30 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue


def expected_labels(bundle: str) -> dict[str, int]:
    """The labels MONAI Label should list for ``bundle``: its output ``channel_def`` without background."""
    channel_def = metadata(bundle)["network_data_format"]["outputs"]["pred"]["channel_def"]
    return {name.lower(): int(value) for value, name in channel_def.items() if name.lower() != "background"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def infer_nuclei(server: Server, image: str) -> np.ndarray:
    """The 2-D bundle's mask of a PNG study: H x W of the study, values among its labels."""
    mask = np.asarray(Image.open(io.BytesIO(server.infer(BUNDLE_2D, image))))
    assert mask.shape == NUCLEI_SHAPE
    assert set(np.unique(mask).tolist()) <= {0, *expected_labels(BUNDLE_2D).values()}
    return mask


def infer_brain(server: Server, image: str) -> nib.Nifti1Image:
    """The 3-D bundle's label volume of a NIfTI study: the study's shape and affine, integer BraTS labels."""
    result = nib.Nifti1Image.from_bytes(gzip.decompress(server.infer(BUNDLE_3D, image)))
    assert result.shape == BRAIN_SHAPE
    np.testing.assert_allclose(result.affine, brain_affine(), atol=1e-4)
    values = np.asanyarray(result.dataobj)
    assert np.issubdtype(values.dtype, np.integer)
    assert set(np.unique(values).tolist()) <= {0, *expected_labels(BUNDLE_3D).values()}
    return result


def test_the_served_bundles_are_self_contained_exports(server):
    for name in BUNDLES:
        served = server.app / "model" / name
        metadata = json.loads((served / "configs/metadata.json").read_text())
        assert (served / "scripts/custom_networks/nets").is_dir() and (served / "models/model.pt").is_file()
        assert "custom-networks" not in metadata["required_packages_version"]


def test_every_bundle_is_listed_with_its_labels(server):
    info = server.info()
    assert sorted(info["models"]) == BUNDLES and sorted(info["trainers"]) == BUNDLES
    for bundle in BUNDLES:
        model, meta = info["models"][bundle], metadata(bundle)
        assert model["labels"] == expected_labels(bundle), bundle
        assert model["dimension"] == len(meta["network_data_format"]["inputs"]["image"]["spatial_shape"]), bundle
        assert model["version"] == meta["version"], bundle
    assert expected_labels(BUNDLE_3D) == {
        "necrotic and non-enhancing tumour core": 1,
        "peritumoral edema": 2,
        "enhancing tumour": 4,
    }


def test_2d_inference_returns_a_mask_of_the_png_size(server):
    infer_nuclei(server, "nuclei_0")


def test_3d_inference_returns_labels_in_the_nifti_geometry(server):
    infer_brain(server, "brain_0")


TRAINING = {
    BUNDLE_2D: (["nuclei_0", "nuclei_1"], ".png", infer_nuclei),
    BUNDLE_3D: (["brain_0", "brain_1"], ".nii.gz", infer_brain),
}


@pytest.mark.parametrize("bundle", TRAINING)
def test_training_on_saved_labels_updates_the_model(server, workdir, bundle):
    """One epoch on two labelled studies replaces ``model.pt`` (the 3-D bundles validate every 5 epochs and after
    the last one), and the server infers with the new model."""
    images, suffix, infer = TRAINING[bundle]
    checkpoint = server.app / "model" / bundle / "models/model.pt"
    before = sha256(checkpoint)
    for image in images:
        server.save_label(image, workdir / "labels" / f"{image}{suffix}")
    try:
        task = server.train(bundle, max_epochs=1)
    finally:
        for image in images:
            server.remove_label(image)
    assert task["status"] == "DONE", task
    assert sha256(checkpoint) != before  # validation after the epoch saved the best model
    infer(server, images[1])
