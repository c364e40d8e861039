"""GlaS-2015 (Warwick-QU) gland segmentation: BMP images with instance-label annotations and ``Grade.csv``."""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

from custom_networks.data.base import InstanceLabelConverter, Sample, paired_samples
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import list_files, locate

__all__ = ["Glas2015"]

GRADES = "Grade.csv"
_NAME = re.compile(r"^(train|testA|testB)_\d+$")


def _read_grades(path: Path) -> dict[str, tuple[str, str]]:
    """``Grade.csv`` → {image name: (patient ID, GlaS grade)}; its header cells carry stray spaces."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [
                {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataPreparationError(f"unreadable file ({exc})", path) from exc
    if not rows or "name" not in rows[0] or "patient id" not in rows[0]:
        raise DataPreparationError("expected columns 'name', 'patient ID' and 'grade (GlaS)'", path)
    return {row["name"]: (row["patient id"], row.get("grade (glas)", "")) for row in rows}


class Glas2015(InstanceLabelConverter):
    """GlaS-2015: ``train_N.bmp``/``testA_N.bmp``/``testB_N.bmp`` (→ RGB PNG) + ``*_anno.bmp`` instance labels
    (→ 0/1 gland mask). All 165 images are pooled and split 70/30 as in MILDNet; ``subset`` keeps the official
    train/testA/testB membership, ``patient`` and ``grade`` come from ``Grade.csv``.

    Args:
        group_by_patient: keep all images of one patient (``Grade.csv``'s patient ID) in one split and fold
            (default, no patient in two splits); False splits image by image as MILDNet did.
    """

    name = "glas2015"
    description = "GlaS-2015 colon histology gland segmentation (RGB, binary gland masks)"
    layout = "train_N.bmp + train_N_anno.bmp, testA_N…, testB_N… and Grade.csv"
    classes = {0: "background", 1: "gland"}
    channel_names = ("R", "G", "B")

    def __init__(self, group_by_patient: bool = True) -> None:
        super().__init__()
        self.group_by_patient = bool(group_by_patient)

    def find(self, src: Path) -> list[Sample]:
        root = locate(
            src, lambda d: (d / GRADES).is_file() or any(_NAME.match(p.stem) for p in list_files(d, (".bmp",)))
        )
        if root is None:
            return []
        samples = paired_samples(root, root, label_suffix="_anno", image_suffixes=(".bmp",), label_suffixes=(".bmp",))
        for sample in samples:
            if not _NAME.match(sample.name):
                raise DataPreparationError("not a GlaS file name (train_N, testA_N or testB_N expected)", sample.image)
        grades = _read_grades(root / GRADES) if (root / GRADES).is_file() else None
        if grades is None:
            self.notes.append(f"{root / GRADES} not found: no patient IDs or grades, images split one by one")
        return [self._annotate(sample, grades, root / GRADES) for sample in samples]

    def _annotate(self, sample: Sample, grades: dict[str, tuple[str, str]] | None, csv_path: Path) -> Sample:
        if grades is not None and sample.name not in grades:
            raise DataPreparationError(f"no row for {sample.name}", csv_path)
        patient, grade = grades[sample.name] if grades is not None else ("unknown", "unknown")
        group = f"patient_{patient}" if grades is not None and self.group_by_patient else sample.name
        extra = {**sample.extra, "subset": sample.name.split("_")[0], "patient": patient, "grade": grade}
        return dataclasses.replace(sample, group=group, extra=extra)
