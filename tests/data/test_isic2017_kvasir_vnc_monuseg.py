"""Details of the ISIC-2017, Kvasir-SEG, Drosophila VNC and MoNuSeg conversions, on synthetic and hand-made input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from custom_networks.data import synthesize
from tests.data.checks import prepare_quietly

# The publisher's merged-map values → class index, written out by hand (not taken from the converter).
MEMBRANE = {0: 0, 32: 0, 64: 0, 96: 0, 128: 0, 159: 0, 191: 1, 223: 1, 255: 1}
ORGANELLES = {0: 1, 32: 1, 64: 1, 96: 1, 128: 1, 159: 1, 191: 2, 223: 0, 255: 0}

# A 20-wide, 12-high tile: a square with integer corners, a triangle whose edges miss every pixel centre, a
# rectangle overlapping the square, a rectangle reaching past the right and bottom borders.
TILE = "TCGA-AA-0000-01A-01-TS1"
POLYGONS = {
    2: [(2, 2), (5, 2), (5, 5), (2, 5)],
    7: [(9.5, 0.5), (16, 0.5), (9.5, 7)],
    9: [(4, 4), (7, 4), (7, 7), (4, 7)],
    11: [(18, 9), (25, 9), (25, 15), (18, 15)],
}


def _aperio(polygons: dict[int, list[tuple[float, float]]]) -> str:
    regions = "".join(
        f'<Region Id="{ident}"><Vertices>'
        + "".join(f'<Vertex X="{x}" Y="{y}"/>' for x, y in points)
        + "</Vertices></Region>"
        for ident, points in polygons.items()
    )
    return f'<Annotations MicronsPerPixel="0.2527"><Annotation Id="1"><Regions>{regions}</Regions></Annotation>' + (
        "</Annotations>"
    )


def _hand_made_instances() -> np.ndarray:
    expected = np.zeros((12, 20), dtype=np.uint16)
    expected[4:8, 4:8] = 3  # the overlapping rectangle …
    expected[2:6, 2:6] = 1  # … gives way to the earlier square (edges on pixel centres are inside)
    for y in range(1, 7):  # triangle: x >= 10, y >= 1, x + y < 16.5
        expected[y, 10 : 17 - y] = 2
    expected[9:12, 18:20] = 4  # clipped to the tile
    return expected


def test_polygons_rasterise_to_the_hand_computed_pixels(tmp_path: Path):
    folder = tmp_path / "raw" / "MoNuSegTestData"
    folder.mkdir(parents=True)
    tifffile.imwrite(folder / f"{TILE}.tif", np.full((12, 20, 3), 200, np.uint8), photometric="rgb")
    (folder / f"{TILE}.xml").write_text(_aperio(POLYGONS))
    prepare_quietly("monuseg", tmp_path / "raw", tmp_path / "data", num_folds=1, test_fraction=0.0)
    item = json.loads((tmp_path / "data" / "datalist.json").read_text())["training"][0]
    assert (item["case"], item["subset"], item["patient"]) == (TILE, "test", "TCGA-AA-0000")
    expected = _hand_made_instances()
    assert (expected == 1).sum() == 16 and (expected == 2).sum() == 21 and (expected == 3).sum() == 12
    instances = np.asarray(Image.open(tmp_path / "data" / item["instance_map"]))
    assert instances.dtype == np.uint16 and np.array_equal(instances, expected)
    label = np.asarray(Image.open(tmp_path / "data" / item["label"]))
    assert label.dtype == np.uint8 and np.array_equal(label, (expected > 0).astype(np.uint8))


def test_monuseg_instances_cover_the_label(tmp_path: Path):
    raw = synthesize("monuseg", tmp_path / "raw", count=8, size=48)
    prepare_quietly("monuseg", raw, tmp_path / "data")
    datalist = json.loads((tmp_path / "data" / "datalist.json").read_text())
    for item in datalist["training"] + datalist["testing"]:
        regions = (raw / "MoNuSegTestData" / f"{item['case']}.xml").read_text().count("<Region ")
        instances = np.asarray(Image.open(tmp_path / "data" / item["instance_map"]))
        assert 0 < instances.max() <= regions
        label = np.asarray(Image.open(tmp_path / "data" / item["label"]))
        assert np.array_equal(label, (instances > 0).astype(np.uint8))
        tile = tifffile.imread(raw / "MoNuSegTestData" / f"{item['case']}.tif")
        assert np.array_equal(np.asarray(Image.open(tmp_path / "data" / item["image"])), tile)


@pytest.mark.parametrize(("mapping", "table"), [("membrane", MEMBRANE), ("organelles", ORGANELLES)])
def test_drosophila_mappings_follow_the_tables(tmp_path: Path, mapping: str, table: dict[int, int]):
    raw = synthesize("drosophila_vnc", tmp_path / "raw", count=8, size=48)
    prepare_quietly("drosophila_vnc", raw, tmp_path / "data", mapping=mapping)
    datalist = json.loads((tmp_path / "data" / "datalist.json").read_text())
    names = ["membrane", "cell"] if mapping == "membrane" else ["other", "membrane", "mitochondrion"]
    assert datalist["labels"] == {str(k): name for k, name in enumerate(names)}
    lut = np.zeros(256, np.uint8)
    lut[list(table)] = list(table.values())
    for item in datalist["training"] + datalist["testing"]:
        section = item["slice"]
        merged = np.asarray(Image.open(raw / "stack1" / "labels" / f"labels{section:08d}.png"))
        assert set(np.unique(merged).tolist()) <= set(table)
        assert np.array_equal(np.asarray(Image.open(tmp_path / "data" / item["label"])), lut[merged])
        section_image = tifffile.imread(raw / "stack1" / "raw" / f"{section:02d}.tif")
        assert np.array_equal(np.asarray(Image.open(tmp_path / "data" / item["image"])), section_image)
    assert len(datalist["training"] + datalist["testing"]) == 8  # stack2 is unlabelled and not read


def test_drosophila_blocks_keep_adjacent_sections_together(tmp_path: Path):
    raw = synthesize("drosophila_vnc", tmp_path / "raw", count=20, size=24)
    prepare_quietly("drosophila_vnc", raw, tmp_path / "data", block=4, test_fraction=0.2, num_folds=4)
    datalist = json.loads((tmp_path / "data" / "datalist.json").read_text())
    split_of: dict[int, set] = {}
    for item in datalist["training"]:
        split_of.setdefault(item["slice"] // 4, set()).add(item["fold"])
    for item in datalist["testing"]:
        split_of.setdefault(item["slice"] // 4, set()).add("test")
    assert len(split_of) == 5 and all(len(splits) == 1 for splits in split_of.values())
    assert len(datalist["testing"]) == 4 and sorted({item["fold"] for item in datalist["training"]}) == [0, 1, 2, 3]


def test_cvc_blocks_keep_consecutive_frames_together(tmp_path: Path):
    raw = synthesize("cvc_clinicdb", tmp_path / "raw", count=20, size=24)
    prepare_quietly("cvc_clinicdb", raw, tmp_path / "data", block=4, test_fraction=0.2, num_folds=4)
    datalist = json.loads((tmp_path / "data" / "datalist.json").read_text())
    split_of: dict[int, set] = {}
    for split, items in (("train", datalist["training"]), ("test", datalist["testing"])):
        for item in items:
            frame = int(Path(item["image"]).stem)
            split_of.setdefault((frame - 1) // 4, set()).add(item["fold"] if split == "train" else "test")
    assert len(split_of) == 5 and all(len(splits) == 1 for splits in split_of.values())
    assert len(datalist["testing"]) == 4


def test_isic2017_reads_every_part_and_skips_superpixels(tmp_path: Path):
    raw = synthesize("isic2017", tmp_path / "raw", count=9, size=32, layout="all")
    assert len(list(raw.glob("*_Data/*_superpixels.png"))) == 9
    prepare_quietly("isic2017", raw, tmp_path / "data")
    datalist = json.loads((tmp_path / "data" / "datalist.json").read_text())
    items = datalist["training"] + datalist["testing"]
    assert sorted(item["subset"] for item in items) == ["test"] * 3 + ["training"] * 3 + ["validation"] * 3
    for item in items:
        source = next(raw.glob(f"*_Data/{item['case']}.jpg"))
        assert (tmp_path / "data" / item["image"]).read_bytes() == source.read_bytes()  # copied as is


def test_kvasir_jpeg_masks_are_thresholded(tmp_path: Path):
    raw = synthesize("kvasir_seg", tmp_path / "raw", count=8, size=48)
    prepare_quietly("kvasir_seg", raw, tmp_path / "data")
    datalist = json.loads((tmp_path / "data" / "datalist.json").read_text())
    grey_levels = set()
    for item in datalist["training"] + datalist["testing"]:
        mask = np.asarray(Image.open(raw / "Kvasir-SEG" / "masks" / f"{item['case']}.jpg"))
        grey_levels |= set(np.unique(mask).tolist())
        label = np.asarray(Image.open(tmp_path / "data" / item["label"]))
        assert np.array_equal(label, (mask.mean(axis=-1) > 127).astype(np.uint8))
    assert grey_levels - {0, 255}, "the synthetic JPEG masks carry compression artefacts"


@pytest.mark.parametrize(
    ("dataset", "options"),
    [("isic2017", {}), ("kvasir_seg", {}), ("drosophila_vnc", {"mapping": "organelles"}), ("monuseg", {})],
)
def test_folds_are_seeded(tmp_path: Path, dataset: str, options: dict):
    raw = synthesize(dataset, tmp_path / "raw", count=12, size=24)

    def folds(seed: int, dst: str) -> list:
        prepare_quietly(dataset, raw, tmp_path / dst, seed=seed, **options)
        datalist = json.loads((tmp_path / dst / "datalist.json").read_text())
        return [(item["case"], item.get("fold", "test")) for item in datalist["training"] + datalist["testing"]]

    assert folds(0, "a") == folds(0, "b")
    assert (tmp_path / "a" / "datalist.json").read_bytes() == (tmp_path / "b" / "datalist.json").read_bytes()
    assert sorted(folds(0, "a")) != sorted(folds(1, "c"))
