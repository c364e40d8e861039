"""MONAI's own bundle commands on the bundles in the installed environment, offline: ``verify_metadata`` against the
schema shipped with the package, ``verify_net_in_out``, ``ckpt_export`` and ``onnx_export`` (the ``export`` extra),
each through ``python -m monai.bundle`` as the Model Zoo's tools call them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from monai.bundle import ConfigParser, verify_metadata

from custom_networks.zoo import bundle_names, find_bundle, metadata_schema

pytestmark = pytest.mark.slow

TINY = {"mildnet_dsb2018_nuclei": [4, 8, 16, 32, 64], "mildnet3d_brats_mri": [2, 4, 8, 16, 32]}  # 2-D, 3-D


@pytest.mark.parametrize("bundle", bundle_names())
def test_metadata_verifies_against_the_shipped_schema(bundle: str):
    verify_metadata(meta_file=str(find_bundle(bundle) / "configs/metadata.json"), filepath=str(metadata_schema()))


def test_the_schema_finds_what_the_model_zoo_rejects(tmp_path: Path):
    """Not a schema that accepts anything: a text where a metric's number belongs, a missing output, no version."""
    metadata = json.loads((find_bundle("mildnet_dsb2018_nuclei") / "configs/metadata.json").read_text())
    broken = {
        "metric": {**metadata, "eval_metrics": {"mean_dice": "see docs/README.md"}},
        "outputs": {**metadata, "network_data_format": {"inputs": metadata["network_data_format"]["inputs"]}},
        "version": {k: v for k, v in metadata.items() if k != "version"},
    }
    for name, content in broken.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        with pytest.raises(ValueError):
            verify_metadata(meta_file=str(path), filepath=str(metadata_schema()))


def _monai_bundle(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "monai.bundle", *map(str, arguments)],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result


@pytest.fixture(scope="module", params=list(TINY))
def bundle_with_model(request, tmp_path_factory) -> tuple[str, Path, ConfigParser]:
    """(name, folder, parsed inference config) of a bundle at tiny widths with models/model.pt of its network."""
    name = request.param
    root = tmp_path_factory.mktemp(name)
    parser = ConfigParser()
    parser.read_config(str(find_bundle(name) / "configs/inference.json"))
    parser["features"] = TINY[name]
    (root / "models").mkdir()
    torch.save(parser.get_parsed_content("network_def").state_dict(), root / "models/model.pt")
    return name, root, parser


def _common(name: str, root: Path) -> list[str]:
    configs = find_bundle(name) / "configs"
    return ["--meta_file", str(configs / "metadata.json"), "--config_file", str(configs / "inference.json")] + [
        "--bundle_root",
        str(root),
        "--features",
        json.dumps(TINY[name]),
    ]


def test_verify_metadata_command(bundle_with_model):
    name, root, _ = bundle_with_model
    meta = find_bundle(name) / "configs/metadata.json"
    result = _monai_bundle("verify_metadata", "--meta_file", meta, "--filepath", metadata_schema(), cwd=root)
    assert "metadata is verified with no error" in result.stdout + result.stderr


def test_verify_net_in_out_command(bundle_with_model):
    name, root, _ = bundle_with_model
    result = _monai_bundle("verify_net_in_out", "network_def", *_common(name, root), cwd=root)
    assert "data shape of network is verified with no error" in result.stdout + result.stderr


def _export(command: str, suffix: str, bundle_with_model) -> tuple[Path, torch.Tensor, torch.Tensor]:
    """Run MONAI's ``command`` (``ckpt_export`` or ``onnx_export``) on the bundle's ``model.pt``; returns the exported
    file, an input of the smallest size the metadata allows (its spatial_shape with n = 1) and what the network with
    the checkpoint's weights makes of it."""
    name, root, parser = bundle_with_model
    path, checkpoint = root / f"models/model{suffix}", root / "models/model.pt"
    _monai_bundle(command, "network_def", "--filepath", path, "--ckpt_file", checkpoint, *_common(name, root), cwd=root)
    network = parser.get_parsed_content("network_def", instantiate=True)
    network.load_state_dict(torch.load(checkpoint))
    image = json.loads((find_bundle(name) / "configs/metadata.json").read_text())["network_data_format"]["inputs"]
    shape = [int(str(size).removesuffix("*n")) for size in image["image"]["spatial_shape"]]  # "16*n" → 16
    x = torch.rand(1, image["image"]["num_channels"], *shape)
    with torch.no_grad():
        return path, x, network.eval()(x)


def test_ckpt_export_command(bundle_with_model):
    path, x, expected = _export("ckpt_export", ".ts", bundle_with_model)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(path))(x), expected)


def test_onnx_export_command(bundle_with_model):
    path, x, expected = _export("onnx_export", ".onnx", bundle_with_model)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(output, expected.numpy(), rtol=1e-3, atol=1e-4)
