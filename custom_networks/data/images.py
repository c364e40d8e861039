"""Reading and writing pixel data: 2-D images (PIL / tifffile), TIFF stacks, NIfTI volumes (nibabel).

Every read failure becomes a :class:`DataPreparationError` naming the file.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import tifffile
from PIL import Image, ImageSequence

from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import TIFF_SUFFIXES

__all__ = [
    "COPYABLE_SUFFIXES",
    "fit_channels",
    "read_image",
    "read_nifti",
    "read_stack",
    "write_image",
    "write_label",
]

#: Raw formats that MONAI's PILReader loads as they are: such images are copied, not re-encoded.
COPYABLE_SUFFIXES = (".png", ".jpg", ".jpeg")
_COPYABLE_MODES = {"L", "RGB", "I;16"}


def _unreadable(path: Path, exc: Exception) -> DataPreparationError:
    reason = str(exc).replace(f"'{path}'", "it").replace(str(path), "it")
    return DataPreparationError(f"unreadable file ({type(exc).__name__}: {reason})", path)


def _pil_array(frame: Image.Image, index_colours: bool) -> np.ndarray:
    if frame.mode == "P" and not index_colours:
        frame = frame.convert("RGBA" if "transparency" in frame.info else "RGB")
    elif frame.mode == "1":
        frame = frame.convert("L")
    elif frame.mode in ("I;16B", "I;16L", "I;16N"):
        frame = frame.convert("I;16")
    return np.asarray(frame)


def _tiff_page(page: tifffile.TiffPage) -> np.ndarray:
    array = page.asarray()
    if page.axes.startswith("S") and array.ndim == 3:  # planar-separate RGB: channels first
        array = np.moveaxis(array, 0, -1)
    return array


def _decode(path: Path, tiff: Callable[[tifffile.TiffFile], Any], pil: Callable[[Image.Image], Any]) -> Any:
    """Decode with tifffile (TIFF/SVS) or Pillow. Pillow is also the fallback for TIFF codecs that tifffile only
    has with ``imagecodecs`` (LZW, JPEG, …); when both fail the file is unreadable (tifffile's reason for a TIFF)."""
    first: Exception | None = None
    if path.suffix.lower() in TIFF_SUFFIXES:
        try:
            with tifffile.TiffFile(path) as tif:
                return tiff(tif)
        except Exception as exc:  # any decoder failure: try Pillow
            first = exc
    try:
        with Image.open(path) as img:
            return pil(img)
    except Exception as exc:  # any decoder failure means an unreadable file
        raise _unreadable(path, first or exc) from exc


def read_image(path: Path, *, index_colours: bool = False) -> np.ndarray:
    """One 2-D image as an H×W or H×W×C array (first page of a TIFF, level 0 of a pyramid).

    Args:
        path: PNG, JPEG, BMP or TIFF/SVS file.
        index_colours: keep a palette ("P" mode) image as its indices (label masks) instead of its colours.
    """
    return _decode(path, lambda tif: _tiff_page(tif.pages.first), lambda img: _pil_array(img, index_colours))


def read_stack(path: Path) -> np.ndarray:
    """All pages of a multi-page TIFF as an N×H×W(×C) array (a single page gives N = 1)."""
    pages = _decode(
        path,
        lambda tif: [_tiff_page(page) for page in tif.pages],
        lambda img: [_pil_array(frame, True) for frame in ImageSequence.Iterator(img)],
    )
    shapes = sorted({page.shape for page in pages})
    if len(shapes) != 1:
        raise DataPreparationError(f"pages differ in size: {shapes}", path)
    return np.stack(pages)


def read_nifti(path: Path) -> tuple[np.ndarray, nib.Nifti1Image]:
    """Voxel data and the image (for its affine and header) of a NIfTI file."""
    try:
        img = nib.load(path)
        return np.asanyarray(img.dataobj), img
    except Exception as exc:  # any failure means an unreadable file
        raise _unreadable(path, exc) from exc


def fit_channels(image: np.ndarray, allowed: tuple[int, ...], path: Path) -> np.ndarray:
    """Bring an image to one of the ``allowed`` channel counts, or fail with "wrong channel count".

    An alpha channel is dropped when the colour channels are allowed (DSB's RGBA → RGB); a colour image whose
    channels are identical becomes grayscale when only one channel is allowed. The input array is returned
    unchanged (the same object) when nothing had to be done.
    """
    if image.ndim not in (2, 3):
        raise DataPreparationError(f"expected a 2-D image, got an array of shape {image.shape}", path)
    channels = 1 if image.ndim == 2 else image.shape[-1]
    if channels in allowed:
        return image[..., 0] if image.ndim == 3 and channels == 1 else image
    fitted = image
    if channels in (2, 4):  # LA / RGBA: drop alpha
        fitted = image[..., : channels - 1]
    if 1 in allowed and fitted.ndim == 3 and (fitted == fitted[..., :1]).all():
        fitted = fitted[..., 0]
    got = 1 if fitted.ndim == 2 else fitted.shape[-1]
    if got not in allowed:
        expected = " or ".join(str(c) for c in allowed)
        raise DataPreparationError(f"wrong channel count: {channels} channel(s), expected {expected}", path)
    return fitted


def _copyable(source: Path, image: np.ndarray) -> bool:
    if source.suffix.lower() not in COPYABLE_SUFFIXES:
        return False
    with Image.open(source) as img:
        return img.mode in _COPYABLE_MODES and img.size == (image.shape[1], image.shape[0])


def _save_png(array: np.ndarray, path: Path) -> None:
    if not (array.dtype == np.uint8 or (array.dtype == np.uint16 and array.ndim == 2)):
        raise DataPreparationError(f"cannot store a {array.dtype} array of shape {array.shape} as PNG", path)
    img = Image.fromarray(array)  # 2-D uint16 → "I;16" (Pillow 13 no longer takes a mode here)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=False)


def write_image(image: np.ndarray, source: Path, target: Path, *, unchanged: bool) -> Path:
    """Write an image to ``target`` (a path without suffix): a copy of ``source`` when MONAI reads it as it is
    and nothing was changed, else a PNG. Returns the written file."""
    if unchanged and _copyable(source, image):
        out = target.with_name(target.name + source.suffix.lower())
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out)
        return out
    if image.dtype != np.uint8 and not (image.dtype == np.uint16 and image.ndim == 2):
        raise DataPreparationError(f"unsupported pixel type {image.dtype} (8-bit or 16-bit grayscale expected)", source)
    out = target.with_name(target.name + ".png")
    _save_png(image, out)
    return out


def write_label(label: np.ndarray, target: Path) -> Path:
    """Write class indices (0, 1, …) as an 8-bit single-channel PNG at ``target`` + ".png"."""
    out = target.with_name(target.name + ".png")
    _save_png(label.astype(np.uint8), out)
    return out
