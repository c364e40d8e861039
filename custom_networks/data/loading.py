"""Reading a prepared ``datalist.json`` (or a plain folder of images) into the item lists bundles iterate over."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from monai.data import create_file_basename
from monai.data.folder_layout import default_name_formatter
from monai.transforms import Compose

from custom_networks.data.datalist import datalist_file, read_datalist
from custom_networks.errors import BadValueError, MissingFileError
from custom_networks.transforms.input_checks import CheckInputd, InputFileError, input_error

__all__ = [
    "INFERENCE_IMAGE_SUFFIXES",
    "VOLUME_SUFFIXES",
    "datalist_split",
    "inference_items",
    "output_name",
    "readable_items",
    "require_datalist",
    "require_input",
    "require_items",
    "volume_items",
    "volume_name_formatter",
]

VOLUME_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
# the files inference reads from a plain folder: 2-D images and volumes
INFERENCE_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", *VOLUME_SUFFIXES)
SPLITS = ("training", "validation", "testing")
SKIPPED_INPUTS = "skipped_inputs.csv"

logger = logging.getLogger(__name__)


def require_datalist(dataset_dir: str | Path) -> Path:
    """The datalist of a prepared dataset folder, or ``dataset_dir`` itself when it is a user's datalist ``.json``
    (the bundles check it first when they run).

    Raises:
        MissingFileError: no datalist there, with how to prepare one.
    """
    path = datalist_file(dataset_dir)
    if not path.is_file():
        raise MissingFileError(
            f"{path}: not found: prepare the dataset first with "
            f"`python scripts/prepare_data.py <dataset> --src RAW_DIR --dst {dataset_dir}` (`folder` for your own "
            "images/ and masks/), or pass the prepared folder, or your own datalist .json, as --dataset_dir."
        )
    return path


def require_items(items: Sequence[dict[str, Any]], dataset_dir: str | Path) -> Sequence[dict[str, Any]]:
    """``items``, the split a bundle is about to read, if there are any (the bundles check it first when they run;
    MONAI Label gives its own items instead of a ``dataset_dir``).

    Raises:
        MissingFileError: no items and no datalist in ``dataset_dir``, with how to prepare one.
        BadValueError: no items although ``dataset_dir`` holds a datalist.
    """
    if not items:
        require_datalist(dataset_dir)
        raise BadValueError(f"{dataset_dir}: no items to read.")
    return items


def require_input(input_path: str | Path) -> str:
    """``input_path`` if it exists (the inference configs check it first when they run).

    Raises:
        MissingFileError: no such file or folder.
    """
    if not Path(input_path).exists():
        raise MissingFileError(f"{input_path}: no such file or folder to segment; pass it as --input_path.")
    return str(input_path)


def datalist_split(
    dataset_dir: str | Path, split: str, fold: int = 0, missing_ok: bool = False
) -> list[dict[str, Any]]:
    """Items of one split of ``dataset_dir``'s datalist with absolute paths.

    Args:
        dataset_dir: folder written by ``scripts/prepare_data.py``, or a datalist ``.json`` of the user's own (read
            by :func:`~custom_networks.data.datalist.read_datalist`: folds assigned where it has none).
        split: ``"training"`` (every fold but ``fold``), ``"validation"`` (fold ``fold``) or ``"testing"``.
        fold: the validation fold.
        missing_ok: no items, instead of the error, while ``dataset_dir`` holds no datalist: the bundles' workflows
            can then be built and checked before any data is prepared (MONAI's ``check_properties``), and check the
            data with :func:`require_datalist` when they run.

    Raises:
        MissingFileError: no datalist in ``dataset_dir`` (unless ``missing_ok``).
        BadValueError: unknown split, or the split is empty.
    """
    if split not in SPLITS:
        raise BadValueError(f"split must be one of {SPLITS}, got {split!r}.")
    if missing_ok and not datalist_file(dataset_dir).is_file():
        return []
    path = require_datalist(dataset_dir)
    datalist = read_datalist(path)
    items = datalist["testing" if split == "testing" else "training"]
    if split == "training":
        items = [item for item in items if item["fold"] != fold]
    elif split == "validation":
        items = [item for item in items if item["fold"] == fold]
    if not items:
        folds = sorted({item["fold"] for item in datalist["training"]})
        raise BadValueError(f"{path}: the {split} split (fold {fold}) is empty; folds present: {folds}.")
    return items


def _prepared_or_file(path: Path, missing_ok: bool) -> list[dict[str, Any]] | None:
    """The ``testing`` items of a prepared dataset folder or a datalist file, or one item for an image file; None for
    any other folder; no
    items for a missing ``path`` if ``missing_ok``.

    Raises:
        MissingFileError: ``path`` does not exist (unless ``missing_ok``).
    """
    if missing_ok and not path.exists():
        return []
    if datalist_file(path).is_file():
        return [{"image": item["image"]} for item in datalist_split(path, "testing")]
    if path.is_file():
        return [{"image": str(path)}]
    if not path.is_dir():
        require_input(path)
    return None


def inference_items(input_path: str | Path, missing_ok: bool = False) -> list[dict[str, str]]:
    """``[{"image": path}, ...]`` to run inference on.

    ``input_path`` is a prepared dataset folder (its ``testing`` split is used), a folder of images (every file with
    an image suffix, sorted) or a single image file; with ``missing_ok``, a path that does not exist gives no items
    (the bundles check it with :func:`require_input` when they run, as for :func:`datalist_split`).

    Raises:
        FileNotFoundError: ``input_path`` does not exist (unless ``missing_ok``) or holds no image.
    """
    path = Path(input_path)
    if (given := _prepared_or_file(path, missing_ok)) is not None:
        return given
    images = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(INFERENCE_IMAGE_SUFFIXES))
    if not images:
        raise MissingFileError(f"{path}: no image ({', '.join(INFERENCE_IMAGE_SUFFIXES)}) in it.")
    return [{"image": str(p)} for p in images]


def _volume_stem(path: Path) -> str:
    name = path.name
    suffix = next((s for s in VOLUME_SUFFIXES if name.lower().endswith(s)), "")
    return name[: len(name) - len(suffix)]


def _modality_source(case: Path, modality: str) -> Path | None:
    """The volume file (``<anything>_<modality>.<ext>`` or ``<modality>.<ext>``) or DICOM series folder
    (``<modality>/``) of one modality in a case folder, matched case-insensitively."""
    for entry in sorted(case.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and entry.name.lower() == modality:
            return entry
        if entry.is_file() and entry.name.lower().endswith(VOLUME_SUFFIXES):
            stem = _volume_stem(entry).lower()
            if stem == modality or stem.endswith(f"_{modality}"):
                return entry
    return None


def _case_item(case: Path, modalities: Sequence[str]) -> dict[str, Any] | None:
    """``{"image": [one source per modality]}`` for a case folder; None when it holds none of the modalities.

    Raises:
        FileNotFoundError: the folder holds some modalities but not all.
    """
    sources = {m: _modality_source(case, m) for m in modalities}
    missing = [m for m, s in sources.items() if s is None]
    if len(missing) == len(modalities):
        return None
    if missing:
        raise MissingFileError(
            f"{case}: the case folder lacks modality {', '.join(missing)}: expected one volume file named "
            f"'*_<modality>{VOLUME_SUFFIXES[1]}' (or any of {', '.join(VOLUME_SUFFIXES)}) or one DICOM series "
            f"folder '<modality>/' for each of {', '.join(modalities)}."
        )
    return {"image": [str(sources[m]) for m in modalities]}


def volume_items(
    input_path: str | Path, modalities: Sequence[str] = (), missing_ok: bool = False
) -> list[dict[str, Any]]:
    """``[{"image": ...}, ...]`` to run 3-D inference on.

    ``input_path`` is one of:

    - a prepared dataset folder: its ``testing`` split;
    - a volume file (NIfTI, NRRD, MetaImage) holding every channel;
    - a case folder with one source per entry of ``modalities``: a volume file named ``<case>_<modality>.<ext>``
      or ``<modality>.<ext>``, or a DICOM series folder ``<modality>/`` (matched case-insensitively); the item's
      image is the list of sources in the order of ``modalities``, which ``LoadImaged`` stacks as channels;
    - a folder of such volume files and case folders: one item each, sorted by name.

    With ``missing_ok`` a path that does not exist gives no items (see :func:`inference_items`).

    Raises:
        FileNotFoundError: ``input_path`` does not exist (unless ``missing_ok``), holds no volume or case folder, or
            a case folder lacks a modality.
    """
    path = Path(input_path)
    modalities = [m.lower() for m in modalities]
    if (given := _prepared_or_file(path, missing_ok)) is not None:
        return given
    if modalities and (case := _case_item(path, modalities)) is not None:
        return [case]
    items = []
    for entry in sorted(p for p in path.iterdir() if not p.name.startswith(".")):
        if entry.is_file() and entry.name.lower().endswith(VOLUME_SUFFIXES):
            items.append({"image": str(entry)})
        elif entry.is_dir() and modalities and (case := _case_item(entry, modalities)) is not None:
            items.append(case)
    if not items:
        layout = f" or case folders with {', '.join(modalities)}" if modalities else ""
        raise MissingFileError(f"{path}: no volume ({', '.join(VOLUME_SUFFIXES)}){layout} in it.")
    return items


def volume_name_formatter(modalities: Sequence[str] = ()) -> Callable[[dict, Any], dict]:
    """``output_name_formatter`` for ``SaveImaged``: outputs of :func:`volume_items` cases are named after the case.

    MONAI names an output after the first source of its input. For a case given as one source per modality
    that is ``<case>_t1.nii.gz`` or, for DICOM series, the folder ``<case>/t1``; this formatter strips the modality
    so the output is ``<case>_<postfix>``. Other inputs keep MONAI's naming.
    """
    modalities = [m.lower() for m in modalities]

    def formatter(metadict: dict, saver: Any) -> dict:
        names = default_name_formatter(metadict, saver)
        source = Path(names["subject"])
        stem = _volume_stem(source)
        suffix = next((m for m in modalities if stem.lower() == m or stem.lower().endswith(f"_{m}")), None)
        if suffix is not None:
            case = source.parent.name if stem.lower() == suffix else stem[: -len(suffix) - 1]
            names["subject"] = str(source.parent / f"{case}.nii.gz")
        return names

    return formatter


def _source(item: dict[str, Any]) -> str:
    return item["image"] if isinstance(item["image"], str) else ", ".join(item["image"])


def output_name(item: dict[str, Any], name_formatter: Callable[[dict, Any], dict] | None = None) -> str:
    """The name (without postfix and extension) of the file that ``SaveImaged`` writes for ``item`` into a flat output
    folder (``separate_folder=False``), with ``name_formatter`` its ``output_name_formatter`` (default MONAI's)."""
    first = item["image"] if isinstance(item["image"], str) else item["image"][0]
    subject = (name_formatter or default_name_formatter)({"filename_or_obj": first}, None)["subject"]
    return create_file_basename("", subject, "", separate_folder=False, makedirs=False).rstrip("_")


def readable_items(
    items: Sequence[dict[str, Any]],
    preprocessing: Compose,
    report_dir: str | Path,
    name_formatter: Callable[[dict, Any], dict] | None = None,
) -> list[dict[str, Any]]:
    """The items of a batch inference that ``preprocessing`` reads and accepts and whose output names are free; the
    others are reported and skipped.

    Each item goes through ``preprocessing`` up to and including its last :class:`CheckInputd` (all of it when there
    is none), so a corrupt, truncated or unfitting file (wrong channels or dimensions, a side of one pixel) is found
    before inference starts and the good ones are all segmented. An item whose output would have the name of an
    earlier one's (``x.png`` and ``x.tif`` both give ``x_seg.png``; see :func:`output_name`) is skipped, naming the
    earlier one, so that no mask is overwritten. Each skipped file is logged as a warning and listed with its error
    in ``report_dir/skipped_inputs.csv`` (the file is removed when nothing is skipped, so it never describes an
    earlier run).

    Args:
        items: the items, ``{"image": path or [paths]}``.
        preprocessing: the inference preprocessing.
        report_dir: the output folder, where ``skipped_inputs.csv`` goes.
        name_formatter: the ``output_name_formatter`` of the bundle's ``SaveImaged`` (default MONAI's).

    Raises:
        InputFileError: there are items and none is readable.
    """
    checks = [i for i, t in enumerate(preprocessing.transforms) if isinstance(t, CheckInputd)]
    end = checks[-1] + 1 if checks else None
    report = Path(report_dir) / SKIPPED_INPUTS
    good, skipped, names = [], [], {}
    for item in items:
        source = _source(item)
        try:
            preprocessing(dict(item), end=end)
        except Exception as error:  # every failure of a file is reported, whatever its reader raises
            reason = str(input_error(error))
        else:
            name = output_name(item, name_formatter)
            if (earlier := names.setdefault(name, source)) == source:
                good.append(item)
                continue
            reason = f"{source}: its mask would overwrite the mask of {earlier} (both named after {name!r}); rename one"
        logger.warning("skipping %s: %s", source, reason)
        skipped.append((source, reason))
    report.unlink(missing_ok=True)
    if skipped:
        report.parent.mkdir(parents=True, exist_ok=True)
        with open(report, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([("image", "error"), *skipped])
        logger.warning("%d of %d inputs skipped, listed in %s.", len(skipped), len(items), report)
    if items and not good:
        raise InputFileError(f"none of the {len(items)} inputs can be segmented; reasons in {report}.")
    return good
