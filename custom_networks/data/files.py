"""Finding files in a raw release: visible files by suffix, natural order, the release root, image/label pairs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from custom_networks.data.errors import DataPreparationError

__all__ = [
    "RAW_IMAGE_SUFFIXES",
    "TIFF_SUFFIXES",
    "index_by_key",
    "is_visible",
    "list_dirs",
    "list_files",
    "locate",
    "natural_key",
    "pair_by_key",
    "require_dirs",
    "stem",
]

TIFF_SUFFIXES = (".tif", ".tiff", ".svs")
# the 2-D image files (and whole-slide TIFFs) of the raw releases that preparation reads
RAW_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", *TIFF_SUFFIXES)
_IGNORED_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}


def natural_key(text: str) -> tuple:
    """Sort key that orders embedded numbers numerically ("dna-2" before "dna-10")."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text))


def is_visible(path: Path) -> bool:
    """False for hidden files (".DS_Store", AppleDouble "._x" files) and archive debris ("__MACOSX")."""
    return not path.name.startswith(".") and path.name not in _IGNORED_NAMES


def list_files(folder: Path, suffixes: Iterable[str]) -> list[Path]:
    """Visible regular files of ``folder`` whose suffix (case-insensitive) is one of ``suffixes``, natural order."""
    wanted = tuple(s.lower() for s in suffixes)
    files = [p for p in folder.iterdir() if p.is_file() and is_visible(p) and p.name.lower().endswith(wanted)]
    return sorted(files, key=lambda p: natural_key(p.name))


def list_dirs(folder: Path) -> list[Path]:
    """Visible sub-folders of ``folder``, natural order."""
    return sorted((p for p in folder.iterdir() if p.is_dir() and is_visible(p)), key=lambda p: natural_key(p.name))


def locate(src: Path, matches: Callable[[Path], bool], depth: int = 2) -> Path | None:
    """The release root: ``src`` itself or the shallowest visible sub-folder (down to ``depth``) that ``matches``.

    Archives often unpack into one extra folder (``Task01_BrainTumour/``, ``kaggle_3m/``), so users may point at
    the folder above. Among several matches at the same depth the first in natural order wins.
    """
    level = [src]
    for _ in range(depth + 1):
        for folder in level:
            if matches(folder):
                return folder
        level = [child for folder in level for child in list_dirs(folder)]
    return None


def stem(path: Path) -> str:
    """File name without its suffix (both parts of ".nii.gz")."""
    return path.name[:-7] if path.name.lower().endswith(".nii.gz") else path.stem


def index_by_key(paths: Iterable[Path], key: Callable[[Path], str] = stem) -> dict[str, Path]:
    """Map ``key(path)`` to path; two files with the same key (``a.png`` and ``a.tif``) are an error."""
    index: dict[str, Path] = {}
    for path in paths:
        k = key(path)
        if k in index:
            raise DataPreparationError(f"two files for the same case '{k}' (also {index[k].name})", path)
        index[k] = path
    return index


def pair_by_key(images: dict[str, Path], labels: dict[str, Path], expected_label: Callable[[str], str]) -> list[str]:
    """Keys present in both maps, natural order; an image without label or a label without image is an error.

    Args:
        images: key → image file.
        labels: key → label file.
        expected_label: key → where the missing label was looked for (for the message).
    """
    for key, image in images.items():
        if key not in labels:
            raise DataPreparationError(f"image has no label (expected {expected_label(key)})", image)
    for key, label in labels.items():
        if key not in images:
            raise DataPreparationError("label has no matching image", label)
    return sorted(images, key=natural_key)


def require_dirs(root: Path, *names: str) -> list[Path]:
    """``root / name`` for each name; a missing folder is an error naming it."""
    folders = [root / name for name in names]
    for folder in folders:
        if not folder.is_dir():
            raise DataPreparationError(f"missing folder (this layout needs {' and '.join(names)})", folder)
    return folders
