"""ISIC-2017 Part 1 (lesion segmentation): the ISIC-2018 Task 1 conventions under the 2017 folder names."""

from __future__ import annotations

from custom_networks.data.isic2018 import Isic2018

__all__ = ["Isic2017"]

PARTS = {
    "training": ("ISIC-2017_Training_Data", "ISIC-2017_Training_Part1_GroundTruth"),
    "validation": ("ISIC-2017_Validation_Data", "ISIC-2017_Validation_Part1_GroundTruth"),
    "test": ("ISIC-2017_Test_v2_Data", "ISIC-2017_Test_v2_Part1_GroundTruth"),
}


class Isic2017(Isic2018):
    """ISIC-2017 Part 1: ``ISIC-2017_{Training,Validation,Test_v2}_Data/ISIC_xxxxxxx.jpg`` (copied as is) +
    ``ISIC-2017_…_Part1_GroundTruth/ISIC_xxxxxxx_segmentation.png`` (0/255 → 0/1). Every part present is read and
    pooled (``subset`` in the datalist says which part a case came from) before the seeded split; the
    ``*_superpixels.png`` files of the image archives are not read (only JPEG images are).

    Args:
        threshold: binarise masks at this value instead of requiring exactly 0/255.
    """

    name = "isic2017"
    description = "ISIC-2017 Part 1 dermoscopy lesion segmentation (RGB JPEG, binary lesion masks)"
    layout = (
        "ISIC-2017_Validation_Data/ISIC_xxxxxxx.jpg and ISIC-2017_Validation_Part1_GroundTruth/"
        "ISIC_xxxxxxx_segmentation.png (or the Training / Test_v2 parts)"
    )
    parts = PARTS
    image_suffixes = (".jpg", ".jpeg")
    record_subset = True
