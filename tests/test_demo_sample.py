"""The quick start's embedded real data (demo/dsb2018_sample): small, in the DSB-2018 stage1_train layout, preparable,
and (when ../shared/data is present) byte-identical to its source and reproduced by scripts/make_demo_sample.py."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from PIL import Image

from custom_networks.data import prepare
from tests.subprocesses import ROOT, run_script

SAMPLE = ROOT / "demo" / "dsb2018_sample"
SOURCE = ROOT.parent / "shared" / "data" / "dsb2018_stage1_train_subset"
MAX_BYTES = 3_000_000  # the data rules allow at most 3 MB of the shared sample in the repository


def _cases(root: Path) -> list[Path]:
    return sorted(p for p in (root / "stage1_train").iterdir() if p.is_dir())


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in (root / "stage1_train").rglob("*") if p.is_file())


def _size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_sample_is_small_and_in_the_stage1_train_layout():
    files = [p for p in SAMPLE.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= MAX_BYTES
    cases = _cases(SAMPLE)
    assert len(cases) >= 30
    for case in cases:
        assert sorted(p.name for p in case.iterdir()) == ["images", "masks"], case.name
        assert [p.name for p in (case / "images").iterdir()] == [f"{case.name}.png"]
        masks = list((case / "masks").iterdir())
        assert masks and all(p.suffix == ".png" for p in masks), case.name
        assert {_size(path) for path in masks} == {_size(case / "images" / f"{case.name}.png")}, case.name
    note = (SAMPLE / "LICENSE.md").read_text(encoding="utf-8")
    assert "CC0" in note and "Caicedo" in note and "scripts/make_demo_sample.py" in note
    assert all(case.name in note for case in cases)


def test_sample_prepares_into_a_split(tmp_path: Path):
    summary = prepare("dsb2018", SAMPLE, tmp_path / "data", progress=False, verbose=False)
    assert summary.rows["all"]["cases"] == len(_cases(SAMPLE))
    assert summary.rows["training"]["cases"] > 0 and summary.rows["testing"]["cases"] > 0


@pytest.mark.skipif(not (SOURCE / "stage1_train").is_dir(), reason=f"shared DSB-2018 sample not found at {SOURCE}")
def test_sample_is_the_shared_data_chosen_by_the_script(tmp_path: Path):
    shipped = _files(SAMPLE)
    for path in shipped:
        assert filecmp.cmp(SAMPLE / path, SOURCE / path, shallow=False), path
    remade = tmp_path / "sample"
    run_script("scripts/make_demo_sample.py", "--src", SOURCE, "--dst", remade, timeout=120)
    assert [p.name for p in _cases(remade)] == [p.name for p in _cases(SAMPLE)]
    assert _files(remade) == shipped
    assert (remade / "LICENSE.md").read_text(encoding="utf-8") == (SAMPLE / "LICENSE.md").read_text(encoding="utf-8")
