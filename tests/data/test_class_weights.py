"""The loss's class weights from the whole training split (MS U-Net's paper) or per batch, through the bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser
from PIL import Image

from custom_networks.data import class_weights, datalist_split, prepare, synthesize
from custom_networks.errors import BadValueError
from custom_networks.zoo import bundles_root


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("class_weights")
    synthesize("dsb2018", tmp / "raw", count=10, size=32)
    prepare("dsb2018", tmp / "raw", tmp / "data", progress=False, verbose=False)
    return tmp / "data"


def test_dataset_weights_are_the_inverse_ratio_of_the_training_labels(data):
    labels = np.concatenate([np.asarray(Image.open(i["label"])).ravel() for i in datalist_split(data, "training", 1)])
    background, nuclei = (labels == 0).sum(), (labels == 1).sum()
    expected = [labels.size / (2 * background), labels.size / (2 * nuclei)]  # w_c = N / (K · N_c)
    assert class_weights("dataset", data, 1, 2) == pytest.approx(expected)
    assert class_weights("batch", data, 1, 2) is None
    with pytest.raises(BadValueError, match="class_weights must be one of"):
        class_weights("overall", data, 1, 2)


def test_the_msunet_bundle_weighs_its_loss_by_the_dataset_when_told(data):
    parser = ConfigParser()
    parser.read_config(str(bundles_root() / "msunet_lymphnode_histology" / "configs" / "train.json"))
    parser.update({"dataset_dir": str(data), "class_weights": "dataset"})
    loss = parser.get_parsed_content("noisy_label_loss")
    torch.testing.assert_close(loss.class_weight, torch.tensor(class_weights("dataset", data, 0, 2)))
    parser.update({"class_weights": "batch"})
    assert parser.get_parsed_content("noisy_label_loss", lazy=False).class_weight is None
