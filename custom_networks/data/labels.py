"""Turning published label conventions into class-index masks (0 = background, 1, 2, … = classes), with checks.

Conventions met in the raw releases: binary 0/255 masks (ISIC, LGG, CVC, ISBI), one 0/255 mask per instance
(DSB), instance-label images 0, 1, …, N (GlaS, Murphy), index images and colour-coded (palette) masks, merged
label maps whose grey levels stand for classes (Drosophila VNC) and polygon outlines (MoNuSeg).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from skimage.draw import polygon

from custom_networks.data.errors import DataPreparationError
from custom_networks.data.images import read_image

__all__ = [
    "binary_mask",
    "check_same_size",
    "check_values",
    "class_pixels",
    "index_mask",
    "instance_foreground",
    "lookup_mask",
    "palette_mask",
    "parse_palette",
    "polygon_instances",
    "single_channel",
    "union_of_masks",
]


def _describe(values: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:limit].tolist())
    return shown + (f", … ({len(values)} values)" if len(values) > limit else "")


def single_channel(label: np.ndarray, path: Path) -> np.ndarray:
    """An H×W label; a colour label is accepted only when its colour channels are identical (alpha ignored)."""
    if label.ndim == 2:
        return label
    if label.ndim == 3 and label.shape[-1] in (1, 2, 3, 4):
        colour = label[..., : max(1, label.shape[-1] - (label.shape[-1] in (2, 4)))]
        if (colour == colour[..., :1]).all():
            return colour[..., 0]
        raise DataPreparationError(
            f"wrong channel count: colour label with {label.shape[-1]} differing channels, expected one channel", path
        )
    raise DataPreparationError(f"expected a 2-D label image, got an array of shape {label.shape}", path)


def check_values(label: np.ndarray, allowed: Sequence[int], path: Path) -> np.ndarray:
    """Fail with "unexpected label values" unless every value of ``label`` is in ``allowed``."""
    values = np.unique(label)
    bad = np.setdiff1d(values, np.asarray(allowed))
    if bad.size:
        raise DataPreparationError(
            f"unexpected label values {_describe(bad)} (allowed: {', '.join(str(a) for a in allowed)})", path
        )
    return label


def binary_mask(label: np.ndarray, path: Path, threshold: float | None = None) -> np.ndarray:
    """0/1 mask from a binary mask stored as 0/255 (or already 0/1).

    Args:
        label: the mask as read.
        path: its file (for messages).
        threshold: when given, any value above it is foreground (for masks with anti-aliased or JPEG-noisy edges);
            otherwise a value other than 0/255 (or 0/1) is an error.
    """
    label = single_channel(label, path)
    if threshold is not None:
        return (label > threshold).astype(np.uint8)
    values = np.unique(label)
    if np.isin(values, (0, 255)).all():
        return (label == 255).astype(np.uint8)
    if np.isin(values, (0, 1)).all():
        return label.astype(np.uint8)
    raise DataPreparationError(
        f"unexpected label values {_describe(values)} in a binary mask (0/255 or 0/1 expected; "
        "pass --threshold T to binarise at T)",
        path,
    )


def instance_foreground(label: np.ndarray, path: Path) -> np.ndarray:
    """0/1 mask from an instance-label image (0 = background, 1…N = objects); colour-coded instances accepted."""
    if label.ndim == 3 and label.shape[-1] in (3, 4):
        return (label[..., :3] > 0).any(axis=-1).astype(np.uint8)
    label = single_channel(label, path)
    if np.issubdtype(label.dtype, np.signedinteger) and (label < 0).any():
        raise DataPreparationError("unexpected negative instance labels", path)
    return (label > 0).astype(np.uint8)


def union_of_masks(paths: Sequence[Path], shape: tuple[int, ...], threshold: float | None = None) -> np.ndarray:
    """0/1 union of per-instance 0/255 masks that must all have the given H×W ``shape`` (``threshold``: as in
    :func:`binary_mask`)."""
    union = np.zeros(shape, dtype=np.uint8)
    for path in paths:
        mask = binary_mask(read_image(path), path, threshold)
        check_same_size(shape, mask.shape, path, "instance mask")
        union |= mask
    return union


def index_mask(label: np.ndarray, path: Path, num_classes: int | None) -> np.ndarray:
    """Class-index mask (values 0 … num_classes-1) from an index image (a palette PNG keeps its indices)."""
    label = single_channel(label, path)
    if num_classes is not None:
        return check_values(label, range(num_classes), path).astype(np.uint8)
    if label.max() >= 64:
        raise DataPreparationError(
            f"label values up to {label.max()} do not look like class indices; pass --num_classes, or --palette "
            "for colour-coded or gray-level masks",
            path,
        )
    return label.astype(np.uint8)


def lookup_mask(label: np.ndarray, table: Mapping[int, int], path: Path) -> np.ndarray:
    """Class-index mask from a label map whose values stand for classes (``table``: map value → class index);
    a value missing from ``table`` is an error naming it."""
    label = check_values(single_channel(label, path), sorted(table), path)
    lut = np.zeros(max(int(label.max()), *table) + 1, dtype=np.uint8)
    lut[list(table)] = list(table.values())
    return lut[label]


def polygon_instances(polygons: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Instance map (uint16: 0 = background, i = polygon i, counted from 1) of polygons given as N×2 arrays of
    (x, y) pixel coordinates, clipped to ``shape``.

    A pixel belongs to a polygon when its centre lies inside it or on its outline (``skimage.draw.polygon``).
    Where polygons overlap, the pixel keeps the first polygon that covers it: later polygons never overwrite
    earlier ones, so ``instances > 0`` is the union of all polygons.
    """
    if len(polygons) >= np.iinfo(np.uint16).max:
        raise DataPreparationError(f"{len(polygons)} polygons do not fit a 16-bit instance map")
    instances = np.zeros(shape, dtype=np.uint16)
    for number, points in enumerate(polygons, start=1):
        rows, cols = polygon(points[:, 1], points[:, 0], shape=shape)
        free = instances[rows, cols] == 0
        instances[rows[free], cols[free]] = number
    return instances


def parse_palette(palette: Sequence) -> np.ndarray:
    """Validate a palette: a list of gray levels (``[0, 128, 255]``) or RGB triples (``[[0,0,0],[255,0,0]]``);
    entry i is the colour of class i. Returns an array of shape (K,) or (K, 3)."""
    try:
        colours = np.asarray(palette, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise DataPreparationError(f"palette must be gray levels or RGB triples, got {palette!r}") from exc
    if colours.ndim not in (1, 2) or (colours.ndim == 2 and colours.shape[1] != 3) or len(colours) < 2:
        raise DataPreparationError(f"palette must list at least 2 gray levels or RGB triples, got {palette!r}")
    if colours.min() < 0 or colours.max() > 255:
        raise DataPreparationError(f"palette values must lie in 0…255, got {palette!r}")
    if len(np.unique(colours, axis=0)) != len(colours):
        raise DataPreparationError(f"palette has repeated colours: {palette!r}")
    return colours


def palette_mask(label: np.ndarray, palette: np.ndarray, path: Path, tolerance: int = 0) -> np.ndarray:
    """Class-index mask from a colour-coded (or gray-level-coded) mask.

    Args:
        label: the mask as read (H×W×3/4 for an RGB palette, H×W for gray levels).
        palette: output of :func:`parse_palette`.
        path: the mask file (for messages).
        tolerance: largest per-channel difference still matched to a palette colour (JPEG-compressed masks);
            a pixel farther from every colour is an error.
    """
    if palette.ndim == 2:
        if label.ndim != 3 or label.shape[-1] not in (3, 4):
            raise DataPreparationError(
                f"wrong channel count: the palette is RGB but the mask has shape {label.shape}", path
            )
        rgb = label[..., :3].reshape(-1, 3).astype(np.int64)
        codes, inverse = np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2], return_inverse=True)
        colours = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=-1)
        shape = label.shape[:2]
    else:
        gray = single_channel(label, path)
        codes, inverse = np.unique(gray.astype(np.int64).ravel(), return_inverse=True)
        colours, palette, shape = codes[:, None], palette[:, None], gray.shape
    distance = np.abs(colours[:, None, :] - palette[None, :, :]).max(axis=-1)  # distinct colours × classes
    nearest = distance.argmin(axis=1)
    unmatched = distance[np.arange(len(codes)), nearest] > tolerance
    if unmatched.any():
        pixels = int(np.bincount(inverse.ravel(), minlength=len(codes))[unmatched].sum())
        raise DataPreparationError(
            f"unexpected label values: colour {colours[unmatched][0].tolist()} ({int(unmatched.sum())} colour(s), "
            f"{pixels} pixel(s)) not in the palette {palette.squeeze().tolist()}",
            path,
        )
    return nearest[inverse].reshape(shape).astype(np.uint8)


def check_same_size(expected: tuple[int, ...], got: tuple[int, ...], path: Path, what: str = "label") -> None:
    """Fail with "size mismatch" unless the spatial shapes agree."""
    if tuple(expected) != tuple(got):
        dims = "×".join
        raise DataPreparationError(
            f"size mismatch: {what} is {dims(map(str, got))}, image is {dims(map(str, expected))}", path
        )


def class_pixels(label: np.ndarray) -> dict[int, int]:
    """Pixel (voxel) count per label value present."""
    counts = np.bincount(np.asarray(label).ravel().astype(np.int64))
    return {value: int(count) for value, count in enumerate(counts) if count}
