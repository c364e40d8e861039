"""What every dataset converter shares: the raw case (:class:`Sample`), the converted case (:class:`Converted`), the
converter interface, the 2-D image/label converter and the stem-paired folder scan."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import (
    RAW_IMAGE_SUFFIXES,
    index_by_key,
    list_files,
    locate,
    pair_by_key,
    require_dirs,
    stem,
)
from custom_networks.data.images import fit_channels, read_image, write_image, write_label
from custom_networks.data.labels import binary_mask, check_same_size, class_pixels, instance_foreground

__all__ = [
    "BinaryMaskConverter",
    "Converted",
    "Converter",
    "InstanceLabelConverter",
    "PlanarConverter",
    "Sample",
    "class_table",
    "folder_pair_samples",
    "paired_samples",
]


@dataclass(frozen=True)
class Sample:
    """One raw case.

    Attributes:
        name: unique output stem (``images/<name>.png``, ``labels/<name>.png``).
        image: the image file (or the case folder when the image is assembled from ``parts``).
        label: the label file (or folder, e.g. DSB's ``masks/``).
        group: the split unit (patient, case); items of one group share a split and a fold.
        extra: extra datalist keys (``case``, ``patient``, …), the same keys for every case of a dataset.
        index: page of a multi-page file, when the case is one page.
        parts: further source files (DSB's instance masks, BraTS's modality volumes).
    """

    name: str
    image: Path
    label: Path
    group: str
    extra: Mapping[str, str | int] = field(default_factory=dict)
    index: int | None = None
    parts: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Converted:
    """One converted case: written files, spatial shape, channel count and pixels per label value."""

    image: Path
    label: Path
    shape: tuple[int, ...]
    channels: int
    pixels: Mapping[int, int]


class Converter(ABC):
    """Reads one dataset as its publisher distributes it and converts it case by case.

    Subclasses set ``name`` (the CLI command), ``description``, ``layout`` (the expected raw layout, quoted in
    errors), ``classes`` (label value → class name) and ``channel_names``; options are keyword arguments of
    ``__init__`` and reach it from the CLI as ``--option value``.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    layout: ClassVar[str]
    channel_names: tuple[str, ...] = ()
    classes: Mapping[int, str] = {0: "background", 1: "foreground"}

    def __init__(self) -> None:
        self.notes: list[str] = []

    @abstractmethod
    def find(self, src: Path) -> list[Sample]:
        """All cases under ``src``, in a stable order; errors for unpaired or misplaced files."""

    @abstractmethod
    def convert(self, sample: Sample, out: Path) -> Converted:
        """Check one case and write it below ``out``."""

    def nothing_found(self, src: Path) -> DataPreparationError:
        """The error for a source folder without this dataset."""
        return DataPreparationError(f"no {self.name} data found here (expected {self.layout})", src)


class PlanarConverter(Converter):
    """A 2-D dataset: one image and one label file per case, label converted to class indices.

    Subclasses implement :meth:`read_label` and set ``channels`` (the image channel counts accepted after
    :func:`fit_channels`). Images are copied when MONAI reads them as they are (PNG/JPEG, nothing changed) and
    written as PNG otherwise; labels are always written as 8-bit PNG class indices.
    """

    channels: ClassVar[tuple[int, ...]] = (3,)

    def read_image(self, sample: Sample) -> np.ndarray:
        """The raw image array."""
        return read_image(sample.image)

    def fit_image(self, image: np.ndarray, path: Path) -> np.ndarray:
        """``image`` with one of the accepted channel counts (:func:`fit_channels`); the same object when unchanged."""
        return fit_channels(image, self.channels, path)

    @abstractmethod
    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        """The label of ``sample`` as an H×W array of class indices (``shape`` is the image's H×W)."""

    def convert(self, sample: Sample, out: Path) -> Converted:
        raw = self.read_image(sample)
        image = self.fit_image(raw, sample.image)
        shape = image.shape[:2]
        label = self.read_label(sample, shape)
        check_same_size(shape, label.shape, sample.label)
        image_file = write_image(image, sample.image, out / "images" / sample.name, unchanged=image is raw)
        label_file = write_label(label, out / "labels" / sample.name)
        channels = 1 if image.ndim == 2 else image.shape[-1]
        return Converted(image_file, label_file, shape, channels, class_pixels(label))


class BinaryMaskConverter(PlanarConverter):
    """A 2-D dataset whose labels are binary masks stored as 0/255 (written as 0/1).

    Args:
        threshold: binarise masks at this value (foreground = value > threshold) instead of requiring exactly
            0/255; for re-encoded masks with intermediate values.
    """

    def __init__(self, threshold: float | None = None) -> None:
        super().__init__()
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
            raise DataPreparationError(f"--threshold must be a number, got {threshold!r}")
        self.threshold = threshold

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        return binary_mask(read_image(sample.label), sample.label, self.threshold)


class InstanceLabelConverter(PlanarConverter):
    """A 2-D dataset whose labels are instance-label images (0 = background, 1…N = objects), written as 0/1."""

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        return instance_foreground(read_image(sample.label, index_colours=True), sample.label)


def paired_samples(
    image_dir: Path,
    label_dir: Path,
    *,
    label_suffix: str = "",
    image_suffixes: Iterable[str] = RAW_IMAGE_SUFFIXES,
    label_suffixes: Iterable[str] = RAW_IMAGE_SUFFIXES,
    prefix: str = "",
    group: str | None = None,
    extra: Mapping[str, str | int] | None = None,
) -> list[Sample]:
    """Cases of two folders whose files pair up by stem (the label's stem may end with ``label_suffix``).

    When both folders are the same (LGG's ``x.tif`` beside ``x_mask.tif``), files ending with ``label_suffix``
    are the labels and the rest the images.

    Args:
        image_dir: folder of images.
        label_dir: folder of labels.
        label_suffix: label stem = image stem + this (ISIC's "_segmentation", LGG's "_mask").
        image_suffixes: image file types considered.
        label_suffixes: label file types considered.
        prefix: prepended to each case name (to keep names unique across sub-collections).
        group: split group of all these cases (a patient folder); by default each case is its own group.
        extra: extra datalist keys added to every case (besides ``case``).
    """
    label_suffixes = tuple(label_suffixes)

    def is_label(path: Path) -> bool:
        return bool(label_suffix) and stem(path).endswith(label_suffix)

    def label_key(path: Path) -> str:
        return stem(path)[: -len(label_suffix)] if is_label(path) else stem(path)

    image_files = [p for p in list_files(image_dir, image_suffixes) if label_dir != image_dir or not is_label(p)]
    label_files = [p for p in list_files(label_dir, label_suffixes) if label_dir != image_dir or is_label(p)]
    images = index_by_key(image_files)
    labels = index_by_key(label_files, label_key)
    suffix_hint = label_suffixes[0] if len(label_suffixes) == 1 else ".*"
    keys = pair_by_key(images, labels, lambda key: str(label_dir / f"{key}{label_suffix}{suffix_hint}"))
    return [
        Sample(
            name=prefix + key,
            image=images[key],
            label=labels[key],
            group=group or prefix + key,
            extra={"case": prefix + key, **(extra or {})},
        )
        for key in keys
    ]


def folder_pair_samples(src: Path, image_folder: str, label_folder: str, **kwargs: Any) -> list[Sample]:
    """:func:`paired_samples` of ``<root>/<image_folder>`` and ``<root>/<label_folder>``, where ``root`` is
    ``src`` or the first sub-folder holding either; no such root gives no cases, only one of the two an error.
    ``kwargs`` go to :func:`paired_samples`."""
    root = locate(src, lambda d: (d / image_folder).is_dir() or (d / label_folder).is_dir())
    if root is None:
        return []
    return paired_samples(*require_dirs(root, image_folder, label_folder), **kwargs)


def class_table(num_classes: int, class_names: Sequence[str] | None = None) -> dict[int, str]:
    """Label value → class name for ``num_classes`` classes (default "background", "foreground" / "class_1", …)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= 256:
        raise DataPreparationError(f"--num_classes must be an integer in 2…256, got {num_classes!r}")
    if class_names is None:
        if num_classes == 2:
            return {0: "background", 1: "foreground"}
        return {k: "background" if k == 0 else f"class_{k}" for k in range(num_classes)}
    if isinstance(class_names, str) or len(class_names) != num_classes:
        raise DataPreparationError(f"--class_names must list {num_classes} names, got {class_names!r}")
    return {k: str(name) for k, name in enumerate(class_names)}
