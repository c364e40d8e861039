"""Writers of test volumes in the formats ITK reads: NRRD / MetaImage files and DICOM series, with chosen geometry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import itk
import numpy as np

__all__ = ["write_dicom_series", "write_itk_volume"]


def _itk_image(array: np.ndarray, spacing: Sequence[float], origin: Sequence[float], direction: np.ndarray | None):
    image = itk.image_from_array(np.ascontiguousarray(array.T).astype(np.int16))  # ITK arrays are z, y, x
    image.SetSpacing([float(s) for s in spacing])
    image.SetOrigin([float(o) for o in origin])
    if direction is not None:
        image.SetDirection(itk.matrix_from_array(np.asarray(direction, dtype=np.float64)))
    return image


def write_itk_volume(
    array: np.ndarray,
    path: Path,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    origin: Sequence[float] = (0.0, 0.0, 0.0),
    direction: np.ndarray | None = None,
) -> Path:
    """Write an x, y, z ``array`` (int16) with ITK (format from the suffix: ``.nrrd``, ``.mha``, …) in LPS space."""
    path.parent.mkdir(parents=True, exist_ok=True)
    itk.imwrite(_itk_image(array, spacing, origin, direction), str(path))
    return path


def write_dicom_series(
    array: np.ndarray, folder: Path, spacing: Sequence[float], origin: Sequence[float], series: int = 1
) -> Path:
    """Write an x, y, z ``array`` as an axial MR DICOM series, one file per z slice, with the positions, orientation
    and spacings that let a reader rebuild the volume's geometry."""
    folder.mkdir(parents=True, exist_ok=True)
    study = "1.2.826.0.1.3680043.2.1125.7"
    series_uid = f"{study}.{series}"
    for k in range(array.shape[2]):
        image = _itk_image(array[:, :, k], spacing[:2], origin[:2], None)
        position = (origin[0], origin[1], origin[2] + k * spacing[2])
        tags = {
            "0008|0060": "MR",
            "0020|000d": study,
            "0020|000e": series_uid,
            "0008|0018": f"{series_uid}.{k + 1}",
            "0020|0013": str(k + 1),
            "0020|0032": "\\".join(f"{v:g}" for v in position),
            "0020|0037": "1\\0\\0\\0\\1\\0",
            "0018|0050": f"{spacing[2]:g}",
            "0028|0030": f"{spacing[1]:g}\\{spacing[0]:g}",
        }
        meta = image.GetMetaDataDictionary()
        for tag, value in tags.items():
            meta[tag] = value
        io = itk.GDCMImageIO.New()
        io.KeepOriginalUIDOn()
        itk.ImageFileWriter[type(image)].New(Input=image, FileName=str(folder / f"IM{k:04d}.dcm"), ImageIO=io).Update()
    return folder
