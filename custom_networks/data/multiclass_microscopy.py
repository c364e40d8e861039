"""Multi-class microscopy (Res-CR-Net): ``images/*`` with index or colour-coded ``masks/*`` of the same stem."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from custom_networks.data.base import PlanarConverter, Sample, class_table, folder_pair_samples
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.images import read_image
from custom_networks.data.labels import index_mask, palette_mask, parse_palette

__all__ = ["MulticlassMicroscopy"]


def _load_palette(palette: str | Sequence) -> np.ndarray:
    """A palette given as a list, as JSON text, or as the path of a JSON file holding the list."""
    if isinstance(palette, str):
        text = Path(palette).read_text(encoding="utf-8") if Path(palette).is_file() else palette
        try:
            palette = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataPreparationError(f"--palette is neither a JSON list nor a JSON file: {palette!r}") from exc
    return parse_palette(palette)


class MulticlassMicroscopy(PlanarConverter):
    """Multi-class microscopy: ``images/<stem>.*`` (grayscale or RGB, PNG copied, others → PNG) +
    ``masks/<stem>.*``, written as class indices 0 … K-1.

    Without ``palette`` a mask is an index image (a palette PNG keeps its indices). With ``palette`` a mask is
    colour-coded: entry i of the palette (an RGB triple, or a gray level for grayscale masks) is class i, e.g.
    ``--palette "[[0,255,0],[255,0,0],[0,0,255]]"``; a colour outside the palette is an error.

    Args:
        palette: list of colours (RGB triples or gray levels), JSON text, or a JSON file path.
        num_classes: number of classes of index masks (default: the palette's length, or inferred from the data).
        class_names: one name per class.
        tolerance: largest per-channel colour difference still matched to a palette colour (default 0: exact).
    """

    name = "multiclass_microscopy"
    description = "Multi-class microscopy (grayscale or RGB images, class-index masks)"
    layout = "images/<stem>.{png,tif,…} and masks/<stem>.{png,tif,…}"
    channels = (1, 3)

    def __init__(
        self,
        palette: str | Sequence | None = None,
        num_classes: int | None = None,
        class_names: Sequence[str] | None = None,
        tolerance: int = 0,
    ) -> None:
        super().__init__()
        self.palette = None if palette is None else _load_palette(palette)
        if self.palette is not None and num_classes not in (None, len(self.palette)):
            raise DataPreparationError(f"--num_classes {num_classes} disagrees with a palette of {len(self.palette)}")
        if self.palette is not None:
            num_classes = len(self.palette)
        elif num_classes is None and class_names is not None:
            num_classes = len(class_names)
        self.num_classes = num_classes
        if isinstance(tolerance, bool) or not isinstance(tolerance, int) or not 0 <= tolerance < 128:
            raise DataPreparationError(f"--tolerance must be an integer in 0…127, got {tolerance!r}")
        self.tolerance = tolerance
        self.classes = class_table(num_classes, class_names) if num_classes is not None else {0: "background"}

    def find(self, src: Path) -> list[Sample]:
        return folder_pair_samples(src, "images", "masks")

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        raw = read_image(sample.label, index_colours=self.palette is None)
        if self.palette is not None:
            return palette_mask(raw, self.palette, sample.label, self.tolerance)
        if raw.ndim == 3 and not (raw[..., :3] == raw[..., :1]).all():
            raise DataPreparationError(
                "wrong channel count: colour-coded mask, but no --palette was given", sample.label
            )
        return index_mask(raw, sample.label, self.num_classes)
