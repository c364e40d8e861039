"""Bundle configs generated from the template, the recipes and each bundle.json: the committed configs are the
generated ones, and the generator merges layers with MONAI's semantics."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from monai.bundle import ConfigParser

from custom_networks.zoo import BundleSource, bundles_root, generate_configs, write_configs
from custom_networks.zoo.template import format_json


def test_committed_configs_are_the_generated_ones():
    assert write_configs(check=True) == {}, "run `python -m custom_networks.zoo.generate` and commit the configs"


def test_check_names_a_config_that_differs(tmp_path: Path):
    root = tmp_path / "bundles"
    shutil.copytree(bundles_root(), root, ignore=shutil.ignore_patterns("__pycache__", "models", "eval", "logs"))
    train = root / "mildnet_dsb2018_nuclei" / "configs" / "train.json"
    train.write_text(train.read_text().replace('"max_epochs": 100', '"max_epochs": 7'))
    command = [sys.executable, "-m", "custom_networks.zoo.generate", "--root", str(root), "--check"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout.strip() == "mildnet_dsb2018_nuclei: train.json differ from the generated configs"
    assert '"max_epochs": 7' in train.read_text()  # --check writes nothing
    subprocess.run(command[:-1], check=True, capture_output=True, timeout=120)
    assert '"max_epochs": 100' in train.read_text()


def _write(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content), encoding="utf-8")


TEMPLATE = {
    "//": "a comment",
    "train": {
        "imports": ["$import os"],
        "dataset_dir": "<required>",
        "batch_size": 2,
        "network_def": "<required>",
        "scale_intensity": {"_target_": "ScaleIntensityd", "keys": "image"},
        "train": {"handlers": [{"_target_": "StatsHandler"}], "trainer": {"max_epochs": 1, "//note": "dropped"}},
        "run": ["$@train#trainer.run()"],
        "training": "%run",
    },
    "evaluate": {"validate#handlers": [{"_target_": "CheckpointLoader"}], "run": ["$@validate#evaluator.run()"]},
    "multi_gpu_train": {"train#sampler": {"_target_": "DistributedSampler"}},
    "inference": {"dataset_dir": "<required>", "network_def": "<required>", "run": ["$@evaluator.run()"]},
    "metadata": {"version": "0.2.0", "changelog": {"0.2.0": "new"}, "num_channels": "@channels", "references": []},
}


def _source(tmp_path: Path, bundle: dict, recipes: dict[str, dict]) -> BundleSource:
    _write(tmp_path / "template.json", TEMPLATE)
    for name, recipe in recipes.items():
        _write(tmp_path / "recipes" / f"{name}.json", recipe)
    _write(tmp_path / "b" / "bundle.json", bundle)
    return BundleSource.read(tmp_path / "b", tmp_path)


def test_layers_merge_with_monai_semantics(tmp_path: Path):
    network = {"_target_": "torch.nn.Identity"}
    recipes = {
        "base": {"common": {"network_def": network, "channels": "@in_channels", "in_channels": 3}},
        "extra": {
            "extends": ["base"],
            "train": {
                "+train#handlers": [{"_target_": "ValidationHandler"}],
                "lr_patience": 4,
                "lr": {"_target_": "L"},
            },
            "evaluate": {"validate#handlers": [], "+run": ["$print('done')"]},
            "metadata": {"+references": ["paper"], "+changelog": {"0.1.10": "older", "0.1.9": "oldest"}},
        },
    }
    bundle = {
        "extends": ["extra", "base"],  # base once, before what extends it
        "common": {"dataset_dir": "/data"},
        "train": {"train#trainer#max_epochs": 5, "batch_size": 4},
        "inference": {"network_def#_target_": "torch.nn.Flatten"},
    }
    source = _source(tmp_path, bundle, recipes)
    assert [path.name for path, _ in source.layers] == ["template.json", "base.json", "extra.json", "bundle.json"]
    configs = generate_configs(source)
    train = configs["train"]
    assert train["train"]["trainer"] == {"max_epochs": 5}  # nested id, comment dropped
    assert [h["_target_"] for h in train["train"]["handlers"]] == ["StatsHandler", "ValidationHandler"]  # "+" extends
    assert train["network_def"] == network and train["batch_size"] == 4
    # settings go next to the settings before them, components before the template's components
    assert list(train) == [
        "imports", "dataset_dir", "batch_size", "channels", "in_channels", "lr_patience", "network_def", "lr",
        "scale_intensity", "train", "run", "training",
    ]  # fmt: skip
    assert configs["inference"]["network_def"] == {"_target_": "torch.nn.Flatten"}
    assert "lr_patience" not in configs["inference"]  # "train" sections stay in train.json
    # override files keep their ids flat, as MONAI applies them on top of train.json
    assert configs["evaluate"] == {"validate#handlers": [], "run": ["$@validate#evaluator.run()", "$print('done')"]}
    assert configs["multi_gpu_train"] == {"train#sampler": {"_target_": "DistributedSampler"}}
    metadata = configs["metadata"]
    assert metadata["num_channels"] == 3  # "@channels" -> "@in_channels" -> 3, from train.json
    assert list(metadata["changelog"]) == ["0.2.0", "0.1.10", "0.1.9"] and metadata["references"] == ["paper"]
    parser = ConfigParser(train)  # an ordinary MONAI config: the macro resolves
    parser.resolve_macro_and_relative_ids()
    assert parser["training"] == parser["run"] and parser["training"] is not parser["run"]


def test_settings_become_references_to_every_plain_setting(tmp_path: Path):
    """``"<settings>"`` lists the plain settings of the generated train.json by reference (recipes' and command-line
    values included when MONAI resolves them); components, expressions, references and macros are left out."""
    bundle = {
        "common": {"dataset_dir": "/data", "network_def": {"_target_": "torch.nn.Identity"}, "channels": 3},
        "train": {"settings": "<settings>", "features": [4, 8], "sw_batch_size": "@batch_size", "device": "$None"},
    }
    train = generate_configs(_source(tmp_path, bundle, {}))["train"]
    names = ["dataset_dir", "batch_size", "channels", "features"]
    assert train["settings"] == {name: f"@{name}" for name in names}
    parser = ConfigParser(train)
    parser.update({"features": [8, 16]})
    assert parser.get_parsed_content("settings") == {
        "dataset_dir": "/data",
        "batch_size": 2,
        "channels": 3,
        "features": [8, 16],
    }


def test_required_value_left_unset(tmp_path: Path):
    source = _source(tmp_path, {"common": {"dataset_dir": "/data"}}, {})
    with pytest.raises(ValueError, match=r"bundle b: train.json: \['network_def'\] must be set by a recipe or bundle"):
        generate_configs(source)


def test_unknown_section_and_missing_recipe(tmp_path: Path):
    with pytest.raises(ValueError, match=r"bundle.json: unknown sections \['evaluation'\]"):
        _source(tmp_path, {"evaluation": {}}, {})
    with pytest.raises(FileNotFoundError, match=r"recipes/nope.json: no such layer file"):
        _source(tmp_path, {"extends": ["nope"]}, {})


def test_format_keeps_short_flat_containers_on_one_line():
    text = format_json({"roi": [96, 96], "t": {"_target_": "A", "keys": ["image"]}, "deep": [{"a": [{"b": 1}]}]})
    assert text.splitlines()[1:3] == ['    "roi": [96, 96],', '    "t": {"_target_": "A", "keys": ["image"]},']
    assert json.loads(text)["deep"] == [{"a": [{"b": 1}]}]
    assert max(len(line) for line in format_json({"k": ["x" * 60, "y" * 60]}).splitlines()) <= 120
