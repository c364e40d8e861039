"""The fire CLI: synthesize a raw layout, prepare it, list datasets, reject unknown options — in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from tests.data.checks import run_cli


def test_cli_synthesizes_and_prepares(tmp_path: Path):
    result = run_cli("synthesize", "dsb2018", "--dst", "raw", "--count", "7", "--size", "32", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "raw" / "stage1_train").iterdir())) == 7
    result = run_cli(
        "dsb2018", "--src", "raw", "--dst", "data", "--seed", "3", "--num_folds", "3", "--test_fraction", "0.25",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Prepared dsb2018: 7 cases" in result.stdout and "fold 2" in result.stdout and "nucleus" in result.stdout
    datalist = json.loads((tmp_path / "data" / "datalist.json").read_text())
    assert (datalist["seed"], datalist["num_folds"], datalist["numTest"]) == (3, 3, 2)


def test_cli_lists_datasets_and_rejects_unknown_options(tmp_path: Path):
    result = run_cli("datasets", cwd=tmp_path)
    assert result.returncode == 0
    names = {line.split()[0] for line in result.stdout.splitlines()}
    expected = {"isbi2012", "isic2018", "glas2015", "dsb2018", "lgg", "murphy", "cvc_clinicdb", "brats", "wsi_tiles"}
    assert names == expected | {
        "multiclass_microscopy",
        "isic2017",
        "kvasir_seg",
        "drosophila_vnc",
        "monuseg",
        "folder",
    }
    result = run_cli("lgg", "--src", tmp_path, "--dst", tmp_path / "out", "--palete", "[1,2]", cwd=tmp_path)
    assert result.returncode != 0 and "unknown option(s) --palete" in result.stderr
    assert "Traceback" not in result.stderr
