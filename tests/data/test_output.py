"""Output handling: idempotent re-runs, split options, safe replacement of DATA_DIR, synthetic determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_networks.data import DataPreparationError, synthesize
from tests.data.checks import leftovers, prepare_quietly, snapshot


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return synthesize("lgg", tmp_path / "raw", count=10, size=24, slices=2)


def _split(data: Path) -> dict[str, int]:
    datalist = json.loads((data / "datalist.json").read_text())
    return {item["case"]: item.get("fold", -1) for item in datalist["training"] + datalist["testing"]}


def test_rerun_gives_identical_output(raw: Path, tmp_path: Path):
    data = tmp_path / "data"
    prepare_quietly("lgg", raw, data)
    first = snapshot(data)
    (data / "images" / "stale.png").write_bytes(b"left over from an older run")
    prepare_quietly("lgg", raw, data)
    assert snapshot(data) == first  # same files, same bytes, nothing stale, no duplicates
    assert leftovers(data) == []


def test_seed_changes_the_split_and_options_are_honoured(raw: Path, tmp_path: Path):
    prepare_quietly("lgg", raw, tmp_path / "a", seed=0)
    prepare_quietly("lgg", raw, tmp_path / "b", seed=1)
    assert _split(tmp_path / "a") != _split(tmp_path / "b")
    prepare_quietly("lgg", raw, tmp_path / "c", seed=0, test_fraction=0.5, num_folds=2)
    datalist = json.loads((tmp_path / "c" / "datalist.json").read_text())
    assert len({item["patient"] for item in datalist["testing"]}) == 5
    assert {item["fold"] for item in datalist["training"]} == {0, 1}
    assert (datalist["seed"], datalist["test_fraction"], datalist["num_folds"]) == (0, 0.5, 2)


def test_foreign_or_overlapping_destinations_are_refused(raw: Path, tmp_path: Path):
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(DataPreparationError, match="not the output of an earlier run"):
        prepare_quietly("lgg", raw, foreign)
    assert (foreign / "thesis.tex").read_text() == "precious"
    with pytest.raises(DataPreparationError, match="overlap"):
        prepare_quietly("lgg", raw, raw / "prepared")
    with pytest.raises(DataPreparationError, match="overlap"):
        prepare_quietly("lgg", raw, raw)


def test_synthetic_copies_are_deterministic_and_replaceable(tmp_path: Path):
    first = snapshot(synthesize("dsb2018", tmp_path / "a", count=4, size=32, seed=5))
    assert first == snapshot(synthesize("dsb2018", tmp_path / "b", count=4, size=32, seed=5))
    assert first != snapshot(synthesize("dsb2018", tmp_path / "c", count=4, size=32, seed=6))
    synthesize("dsb2018", tmp_path / "a", count=2, size=32, seed=5)  # re-run over an older copy replaces it
    assert len(list((tmp_path / "a" / "stage1_train").iterdir())) == 2
    with pytest.raises(DataPreparationError, match="unknown option"):
        synthesize("dsb2018", tmp_path / "d", layout="png")
