"""ISIC-2018 Task 1 (lesion boundary segmentation): dermoscopy JPEGs and 0/255 lesion masks."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

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
    #: Parts of the release read (subset name → (image folder, ground-truth folder)); every part present is used.
    parts: ClassVar[Mapping[str, tuple[str, str]]] = {"training": (INPUT, GROUND_TRUTH)}
    #: Image file types read from the image folders.
    image_suffixes: ClassVar[tuple[str, ...]] = (".jpg", ".jpeg", ".png")
    #: Whether each case records its part as ``subset`` in the datalist (for releases of several parts).
    record_subset: ClassVar[bool] = False

    def find(self, src: Path) -> list[Sample]:
        return [sample for subset in self.parts for sample in self._part(src, subset)]

    def _part(self, src: Path, subset: str) -> list[Sample]:
        samples = folder_pair_samples(
            src,
            *self.parts[subset],
            label_suffix="_segmentation",
            image_suffixes=self.image_suffixes,
            label_suffixes=(".png",),
        )
        if not self.record_subset:
            return samples
        return [dataclasses.replace(s, extra={**s.extra, "subset": subset}) for s in samples]
