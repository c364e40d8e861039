"""A user's own data: a folder of images and a folder of masks whose names match (``images/`` + ``masks/``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from custom_networks.data.base import PlanarConverter, Sample, class_table, folder_pair_samples
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.images import read_image
from custom_networks.data.labels import binary_mask, index_mask, palette_mask, parse_palette, single_channel

__all__ = ["ImageFolder"]

_MASK_FOLDERS = ("masks", "labels")
# ITU-R BT.601 luma, as PIL's convert("L")
_LUMA = np.array([0.299, 0.587, 0.114])


def _load_palette(palette: str | Sequence) -> np.ndarray:
    """A palette given as a list, as JSON text, or as the path of a JSON file holding the list."""
    if isinstance(palette, str):
        text = Path(palette).read_text(encoding="utf-8") if Path(palette).is_file() else palette
        try:
            palette = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataPreparationError(f"--palette is neither a JSON list nor a JSON file: {palette!r}") from exc
    return parse_palette(palette)


def _to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """``image`` (H×W or H×W×3) with ``channels`` channels: grey repeated to RGB, or RGB to its luma."""
    if channels == 3 and image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=-1)
    if channels == 1 and image.ndim == 3:
        return np.round(image @ _LUMA).astype(image.dtype)
    return image


class ImageFolder(PlanarConverter):
    """Any 2-D images with masks: ``images/<name>.*`` + ``masks/<name><mask_suffix>.*`` (or ``labels/``), the
    layout most users keep their own data in. Images are grayscale or RGB (alpha dropped; PNG and JPEG copied as
    they are, other formats written as PNG); every image must end up with the same channel count, which
    ``channels`` can force. Masks become class indices 0 … K-1:

    - binary masks stored as 0/255 or 0/1 → 0/1 (``threshold``: any value above it is foreground, for masks saved
      as JPEG or with anti-aliased edges);
    - index masks (0, 1, 2, …; a palette PNG keeps its indices) → as they are (``num_classes`` checks the values);
    - colour-coded masks → entry i of ``palette`` (RGB triples or gray levels) is class i.

    Args:
        images: the image folder's name.
        masks: the mask folder's name (default: ``masks``, else ``labels``).
        mask_suffix: a mask's name is the image's name plus this, before the extension (e.g. ``_mask``).
        channels: 1 (RGB images become grayscale) or 3 (grayscale images become RGB); default: as found.
        threshold: binarise masks at this value (foreground = value > threshold).
        num_classes: number of classes of index masks (default: the palette's length, or what the masks hold).
        class_names: one name per class.
        palette: colours of the classes of colour-coded masks: a list, JSON text, or a JSON file path.
        tolerance: largest per-channel colour difference still matched to a palette colour (default 0: exact).
    """

    name = "folder"
    description = "Your own 2-D images and masks (images/ + masks/ with matching names; binary, index or colour masks)"
    layout = "images/<name>.{png,jpg,tif,…} and masks/<name>[<mask_suffix>].{png,tif,…} (or labels/)"
    channels = (1, 3)

    def __init__(
        self,
        images: str = "images",
        masks: str | None = None,
        mask_suffix: str = "",
        channels: int | None = None,
        threshold: float | None = None,
        num_classes: int | None = None,
        class_names: Sequence[str] | None = None,
        palette: str | Sequence | None = None,
        tolerance: int = 0,
    ) -> None:
        super().__init__()
        if channels not in (None, 1, 3):
            raise DataPreparationError(f"--channels must be 1 or 3, got {channels!r}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
            raise DataPreparationError(f"--threshold must be a number, got {threshold!r}")
        if isinstance(tolerance, bool) or not isinstance(tolerance, int) or not 0 <= tolerance < 128:
            raise DataPreparationError(f"--tolerance must be an integer in 0…127, got {tolerance!r}")
        self.palette = None if palette is None else _load_palette(palette)
        if self.palette is not None and num_classes not in (None, len(self.palette)):
            raise DataPreparationError(f"--num_classes {num_classes} disagrees with a palette of {len(self.palette)}")
        if self.palette is not None:
            num_classes = len(self.palette)
        elif num_classes is None and class_names is not None:
            num_classes = len(class_names)
        if threshold is not None and num_classes not in (None, 2):
            raise DataPreparationError(f"--threshold makes binary masks, but --num_classes is {num_classes}")
        self.images, self.masks, self.mask_suffix = str(images), masks, str(mask_suffix)
        self.channel_count, self.threshold, self.num_classes, self.tolerance = (
            channels,
            threshold,
            num_classes,
            tolerance,
        )
        self.classes = class_table(num_classes, class_names) if num_classes is not None else {0: "background"}
        self.found_channels: dict[int, Path] = {}  # channel count → first image that had it

    def _mask_folder(self, src: Path) -> str:
        if self.masks is not None:
            return str(self.masks)
        for root in (src, *sorted(d for d in src.iterdir() if d.is_dir())):
            for folder in _MASK_FOLDERS:
                if (root / self.images).is_dir() and (root / folder).is_dir():
                    return folder
        return _MASK_FOLDERS[0]

    def find(self, src: Path) -> list[Sample]:
        return folder_pair_samples(src, self.images, self._mask_folder(src), label_suffix=self.mask_suffix)

    def fit_image(self, image: np.ndarray, path: Path) -> np.ndarray:
        fitted = super().fit_image(image, path)
        if self.channel_count is not None:
            return _to_channels(fitted, self.channel_count)
        count = 1 if fitted.ndim == 2 else 3
        self.found_channels.setdefault(count, path)
        if len(self.found_channels) > 1:
            other = self.found_channels[4 - count]
            raise DataPreparationError(
                f"{count}-channel image, but {other.name} has {4 - count}: a network takes one channel count; pass "
                "--channels 1 (grayscale) or --channels 3 (RGB)",
                path,
            )
        return fitted

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        raw = read_image(sample.label, index_colours=self.palette is None)
        if self.palette is not None:
            return palette_mask(raw, self.palette, sample.label, self.tolerance)
        if raw.ndim == 3 and not (raw[..., :3] == raw[..., :1]).all():
            raise DataPreparationError(
                "wrong channel count: colour-coded mask, but no --palette was given", sample.label
            )
        label = single_channel(raw, sample.label)
        binary = self.num_classes in (None, 2) and label.max() == 255 and np.isin(label, (0, 255)).all()
        if self.threshold is not None or binary:
            return binary_mask(label, sample.label, self.threshold)
        return index_mask(label, sample.label, self.num_classes)
