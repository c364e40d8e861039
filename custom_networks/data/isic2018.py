"""ISIC-2018 Task 1 (lesion boundary segmentation): dermoscopy JPEGs and 0/255 lesion masks."""

from __future__ import annotations

from pathlib import Path

from custom_networks.data.base import BinaryMaskConverter, Sample, folder_pair_samples

__all__ = ["Isic2018"]

INPUT = "ISIC2018_Task1-2_Training_Input"
GROUND_TRUTH = "ISIC2018_Task1_Training_GroundTruth"


class Isic2018(BinaryMaskConverter):
    """ISIC-2018 training set: ``ISIC_xxxxxxx.jpg`` (copied as is) + ``ISIC_xxxxxxx_segmentation.png`` → 0/1.

    Args:
        threshold: binarise masks at this value instead of requiring exactly 0/255.
    """

    name = "isic2018"
    description = "ISIC-2018 Task 1 dermoscopy lesion segmentation (RGB JPEG, binary lesion masks)"
    layout = f"{INPUT}/ISIC_xxxxxxx.jpg and {GROUND_TRUTH}/ISIC_xxxxxxx_segmentation.png"
    classes = {0: "background", 1: "lesion"}
    channel_names = ("R", "G", "B")

    def find(self, src: Path) -> list[Sample]:
        return folder_pair_samples(
            src,
            INPUT,
            GROUND_TRUTH,
            label_suffix="_segmentation",
            image_suffixes=(".jpg", ".jpeg", ".png"),
            label_suffixes=(".png",),
        )
