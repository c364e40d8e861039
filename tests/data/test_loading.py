"""Bundles read prepared datalists (per split and fold) and folders of images through custom_networks.data."""

import json
from pathlib import Path

import pytest

from custom_networks.data import datalist_split, inference_items, prepare, synthesize


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("loading")
    synthesize("dsb2018", tmp / "raw", count=10, size=32)
    prepare("dsb2018", tmp / "raw", tmp / "data", progress=False, verbose=False)
    return tmp / "data"


def test_splits_partition_the_datalist(dataset):
    datalist = json.loads((dataset / "datalist.json").read_text())
    training, validation = datalist_split(dataset, "training", 1), datalist_split(dataset, "validation", 1)
    assert {i["fold"] for i in validation} == {1} and 1 not in {i["fold"] for i in training}
    assert len(training) + len(validation) == len(datalist["training"])
    testing = datalist_split(dataset, "testing")
    assert len(testing) == len(datalist["testing"])
    assert all(Path(i["image"]).is_absolute() and Path(i["label"]).is_file() for i in training + testing)


def test_bad_requests_name_the_problem(dataset, tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        datalist_split(dataset, "train")
    with pytest.raises(ValueError, match=r"validation split .*\(fold 7\) is empty; folds present: \[0, 1, 2, 3, 4\]"):
        datalist_split(dataset, "validation", 7)
    with pytest.raises(FileNotFoundError, match="prepare_data.py"):
        datalist_split(tmp_path, "training")


def test_inference_items(dataset, tmp_path):
    assert [i["image"] for i in inference_items(dataset)] == [i["image"] for i in datalist_split(dataset, "testing")]
    folder = dataset / "images"
    images = inference_items(folder)
    assert len(images) == len(list(folder.glob("*.png"))) and images == sorted(images, key=lambda i: i["image"])
    assert inference_items(images[0]["image"]) == images[:1]
    with pytest.raises(FileNotFoundError, match="no image"):
        inference_items(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        inference_items(tmp_path / "missing")
