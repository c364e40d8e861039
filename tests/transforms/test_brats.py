"""BraTS label volumes rebuilt from predicted region channels (the inverse of MONAI's BraTS class conversion)."""

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import ConvertToMultiChannelBasedOnBratsClasses

from custom_networks.transforms import BratsRegionsToLabels, BratsRegionsToLabelsd


def test_round_trip_through_monai_regions():
    labels = torch.from_numpy(np.random.default_rng(0).choice([0, 1, 2, 4], size=(1, 6, 5, 4)).astype(np.uint8))
    regions = ConvertToMultiChannelBasedOnBratsClasses()(labels[0])  # TC, WT, ET
    back = BratsRegionsToLabels()(regions)
    assert back.dtype == torch.uint8 and torch.equal(back, labels)


def test_regions_that_do_not_nest_still_mark_tumour():
    regions = torch.zeros(3, 4)
    regions[2, 0] = 1  # ET alone
    regions[0, 1] = 1  # TC alone
    regions[1, 2] = 1  # WT alone
    regions[:, 3] = 0.4  # below the 0.5 threshold
    assert BratsRegionsToLabels()(regions)[0].tolist() == [4, 1, 2, 0]


def test_metadata_kept_and_dictionary_version():
    regions = MetaTensor(torch.ones(3, 2, 2, 2), affine=torch.diag(torch.tensor([2.0, 2.0, 2.0, 1.0])))
    out = BratsRegionsToLabelsd(keys="pred")({"pred": regions, "other": 1})
    assert isinstance(out["pred"], MetaTensor) and torch.equal(out["pred"].affine, regions.affine)
    assert out["pred"].shape == (1, 2, 2, 2) and out["pred"].unique().tolist() == [4] and out["other"] == 1


def test_wrong_channel_count():
    with pytest.raises(ValueError, match="expected 3 region channels"):
        BratsRegionsToLabels()(torch.zeros(2, 4, 4))
