"""ISBI-2012 EM segmentation challenge: 30-page 8-bit TIFF stacks (label 255 = cell, 0 = membrane)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from custom_networks.data.base import BinaryMaskConverter, Converted, Sample, paired_samples
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import locate, require_dirs
from custom_networks.data.images import read_stack
from custom_networks.data.labels import binary_mask

__all__ = ["Isbi2012"]

VOLUME, LABELS = "train-volume.tif", "train-labels.tif"


class Isbi2012(BinaryMaskConverter):
    """ISBI-2012: ``train-volume.tif`` + ``train-labels.tif`` (each page → one PNG), or ``image/N.png`` +
    ``label/N.png``. ``test-volume.tif`` has no labels and is not used.

    Args:
        threshold: binarise labels at this value instead of requiring exactly 0/255.
        foreground: which class is 1 in the written labels: "cell" (default: raw 255 → 1, as in the published
            labels and the U-Net/MultiResUNet code) or "membrane" (raw 0 → 1).
    """

    name = "isbi2012"
    description = "ISBI-2012 serial-section EM (grayscale, binary cell/membrane labels)"
    layout = f"{VOLUME} and {LABELS} (multi-page TIFF), or image/N.png and label/N.png"
    channels = (1,)
    channel_names = ("EM",)

    def __init__(self, threshold: float | None = None, foreground: str = "cell") -> None:
        super().__init__(threshold)
        if foreground not in ("cell", "membrane"):
            raise DataPreparationError(f"--foreground must be 'cell' or 'membrane', got {foreground!r}")
        self.foreground = foreground
        self.classes = {0: "membrane", 1: "cell"} if foreground == "cell" else {0: "cell", 1: "membrane"}
        self._stacks: dict[Path, np.ndarray] = {}

    def _stack(self, path: Path) -> np.ndarray:
        if path not in self._stacks:
            self._stacks[path] = read_stack(path)
        return self._stacks[path]

    def find(self, src: Path) -> list[Sample]:
        root = locate(src, lambda d: (d / VOLUME).is_file() or (d / "image").is_dir())
        if root is None:
            return []
        if not (root / VOLUME).is_file():
            return paired_samples(*require_dirs(root, "image", "label"))
        if not (root / LABELS).is_file():
            raise DataPreparationError(f"image stack has no label (expected {root / LABELS})", root / VOLUME)
        pages, label_pages = len(self._stack(root / VOLUME)), len(self._stack(root / LABELS))
        if pages != label_pages:
            raise DataPreparationError(
                f"size mismatch: {label_pages} label pages for {pages} image pages", root / LABELS
            )
        return [
            Sample(f"slice_{i:02d}", root / VOLUME, root / LABELS, f"slice_{i:02d}", {"case": f"slice_{i:02d}"}, i)
            for i in range(pages)
        ]

    def convert(self, sample: Sample, out: Path) -> Converted:
        try:
            return super().convert(sample, out)
        except DataPreparationError as exc:
            if sample.index is None:
                raise
            raise DataPreparationError(f"page {sample.index}: {exc.problem}", exc.path) from exc

    def read_image(self, sample: Sample) -> np.ndarray:
        return super().read_image(sample) if sample.index is None else self._stack(sample.image)[sample.index]

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        if sample.index is None:
            mask = super().read_label(sample, shape)
        else:
            mask = binary_mask(self._stack(sample.label)[sample.index], sample.label, self.threshold)
        return 1 - mask if self.foreground == "membrane" else mask
