"""Checks of the images and labels a bundle reads, so bad input stops with an error naming the file and the problem
instead of a shape mismatch deep inside a network or a reader's message without a file name."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import LoadImaged, MapTransform

from custom_networks.errors import UserError

__all__ = ["CheckInputd", "CheckedLoadImaged", "InputFileError", "input_error"]


class InputFileError(UserError, ValueError):
    """An input file that cannot be read, or whose content does not fit the bundle."""


def _source(data: Mapping[Hashable, Any], key: Hashable) -> str:
    """The file (or files) an item's ``key`` was loaded from, for error messages."""
    value = data[key]
    if isinstance(value, MetaTensor):
        value = value.meta.get("filename_or_obj", "<unknown file>")
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def input_error(error: BaseException) -> BaseException:
    """The :class:`InputFileError` behind ``error`` (MONAI wraps transform errors in ``RuntimeError``), else the
    innermost cause."""
    while not isinstance(error, InputFileError) and error.__cause__ is not None:
        error = error.__cause__
    return error


class CheckedLoadImaged(LoadImaged):
    """MONAI's ``LoadImaged`` whose read errors name the file: a truncated PNG or NIfTI otherwise fails with the
    reader's message alone ("image file is truncated", "Compressed file ended ...").

    Raises:
        InputFileError: a file is missing, unreadable, corrupt or truncated.
    """

    def __call__(self, data: Mapping[Hashable, Any], reader: Any = None) -> dict[Hashable, Any]:
        try:
            return super().__call__(data, reader)
        except Exception as error:  # any reader's failure, reported with the file it was reading
            keys = [k for k in self.keys if k in data]
            files = "; ".join(f"{k}: {_source(data, k)}" for k in keys)
            raise InputFileError(f"cannot read {files} ({type(error).__name__}: {error}).") from error


class CheckInputd(MapTransform):
    """Check a loaded (channel-first) image, and its label when present, against what the bundle's network expects.

    Args:
        keys: image keys.
        channels: number of image channels the network takes.
        spatial_dims: number of spatial dimensions (2 or 3).
        label_key: label key, checked when the item has it (training and evaluation, not inference).
        label_values: the class values a label may hold (e.g. ``[0, 1]``, BraTS ``[0, 1, 2, 4]``).
        min_size: the smallest size of a spatial dimension: an image of one pixel row or column has no neighbourhood
            to segment (and MONAI's PNG writer cannot save its mask).

    Raises:
        InputFileError: naming the file, for a wrong channel count or spatial rank, a spatial dimension smaller than
            ``min_size``, a label of another spatial shape than its image, or label values outside ``label_values``.
    """

    def __init__(
        self,
        keys: KeysCollection,
        channels: int,
        spatial_dims: int,
        label_key: str | None = None,
        label_values: Sequence[int] | None = None,
        min_size: int = 2,
    ) -> None:
        super().__init__(keys)
        self.channels = channels
        self.spatial_dims = spatial_dims
        self.label_key = label_key
        self.label_values = None if label_values is None else sorted(label_values)
        self.min_size = min_size

    def _check_image(self, data: Mapping[Hashable, Any], key: Hashable) -> None:
        image = data[key]
        source = _source(data, key)
        if image.ndim != self.spatial_dims + 1:
            raise InputFileError(
                f"{source}: expected a {self.spatial_dims}-D image (channel first: {self.spatial_dims + 1} dims), "
                f"got shape {tuple(image.shape)}."
            )
        if image.shape[0] != self.channels:
            raise InputFileError(
                f"{source}: expected {self.channels} channel(s), got {image.shape[0]} (shape {tuple(image.shape)}); "
                "convert the image (e.g. RGBA or greyscale to RGB) or use a bundle made for this input."
            )
        if min(image.shape[1:]) < self.min_size:
            raise InputFileError(
                f"{source}: a side of {min(image.shape[1:])} pixel(s) (spatial size {tuple(image.shape[1:])}) is "
                f"too small to segment: every side must be at least {self.min_size} pixels."
            )

    def _check_label(self, data: Mapping[Hashable, Any], image_key: Hashable) -> None:
        label, image = data[self.label_key], data[image_key]
        source = _source(data, self.label_key)
        if tuple(label.shape[1:]) != tuple(image.shape[1:]):
            raise InputFileError(
                f"{source}: label of spatial shape {tuple(label.shape[1:])} for an image of "
                f"{tuple(image.shape[1:])} ({_source(data, image_key)})."
            )
        if self.label_values is not None:
            found = torch.unique(torch.as_tensor(label)).tolist()
            unexpected = [int(v) if float(v).is_integer() else v for v in found if v not in self.label_values]
            if unexpected:
                raise InputFileError(
                    f"{source}: label values {unexpected[:10]} outside the bundle's classes {self.label_values}; "
                    "labels must hold class indices (`scripts/prepare_data.py folder` converts 0/255 masks)."
                )

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            self._check_image(d, key)
            if self.label_key is not None and self.label_key in d:
                self._check_label(d, key)
        return d
