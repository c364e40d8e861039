"""Large-tile / whole-slide histology (MS U-Net): ``images/*.{tif,png,svs}`` with ``masks/*`` of the same stem."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from custom_networks.data.base import BinaryMaskConverter, Sample, class_table, folder_pair_samples
from custom_networks.data.files import TIFF_SUFFIXES
from custom_networks.data.images import read_image
from custom_networks.data.labels import index_mask

__all__ = ["WsiTiles"]


class WsiTiles(BinaryMaskConverter):
    """Histology tiles: ``images/<stem>.{tif,tiff,svs,png}`` (RGB; TIFF/SVS level 0 → PNG, PNG copied) +
    ``masks/<stem>.{png,tif}``. Binary masks may be 0/255 or 0/1 (→ 0/1); with ``num_classes`` > 2 a mask is an
    index image with values 0 … num_classes-1. Reading JPEG-compressed TIFF/SVS needs the ``imagecodecs`` package.

    Args:
        threshold: binarise 2-class masks at this value instead of requiring exactly 0/255 or 0/1.
        num_classes: number of classes including background (2 = binary).
        class_names: one name per class (default "background", "class_1", …).
    """

    name = "wsi_tiles"
    description = "Large-tile histology (RGB tiles, class-index masks)"
    layout = "images/<stem>.{tif,tiff,svs,png} and masks/<stem>.{png,tif}"
    channel_names = ("R", "G", "B")

    def __init__(
        self, threshold: float | None = None, num_classes: int = 2, class_names: Sequence[str] | None = None
    ) -> None:
        super().__init__(threshold)
        self.classes = class_table(num_classes, class_names)
        self.num_classes = num_classes

    def find(self, src: Path) -> list[Sample]:
        return folder_pair_samples(
            src, "images", "masks", image_suffixes=(".png", *TIFF_SUFFIXES), label_suffixes=(".png", ".tif", ".tiff")
        )

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        if self.num_classes == 2:
            return super().read_label(sample, shape)
        return index_mask(read_image(sample.label, index_colours=True), sample.label, self.num_classes)
