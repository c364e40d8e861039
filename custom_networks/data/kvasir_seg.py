"""Kvasir-SEG (Jha et al. 2020) colonoscopy polyps: RGB JPEG frames with JPEG-compressed grey polyp masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from custom_networks.data.base import BinaryMaskConverter, Sample, folder_pair_samples
from custom_networks.data.images import read_image
from custom_networks.data.labels import binary_mask

__all__ = ["KvasirSeg"]

_JPEG = (".jpg", ".jpeg")


def _grey(mask: np.ndarray) -> np.ndarray:
    """The mean of a JPEG mask's colour channels (JPEG chroma noise makes them differ by a few levels)."""
    return mask[..., :3].mean(axis=-1) if mask.ndim == 3 else mask


class KvasirSeg(BinaryMaskConverter):
    """Kvasir-SEG: ``Kvasir-SEG/images/<id>.jpg`` (RGB, copied as is) + ``Kvasir-SEG/masks/<id>.jpg`` (grey polyp
    mask stored as JPEG, so it holds a dozen grey levels around 0 and 255, not a clean 0/255) → 0/1 with polyp =
    grey level > ``threshold`` (default 127: 128 and above). ``kavsir_bboxes.json`` is not read.

    Args:
        threshold: grey level above which a mask pixel is polyp.
    """

    name = "kvasir_seg"
    description = "Kvasir-SEG colonoscopy polyp segmentation (RGB JPEG, binary polyp masks from JPEG masks)"
    layout = "Kvasir-SEG/images/<id>.jpg and Kvasir-SEG/masks/<id>.jpg"
    classes = {0: "background", 1: "polyp"}
    channel_names = ("R", "G", "B")

    def __init__(self, threshold: float = 127) -> None:
        super().__init__(threshold)

    def find(self, src: Path) -> list[Sample]:
        return folder_pair_samples(src, "images", "masks", image_suffixes=_JPEG, label_suffixes=_JPEG)

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        return binary_mask(_grey(read_image(sample.label)), sample.label, self.threshold)
