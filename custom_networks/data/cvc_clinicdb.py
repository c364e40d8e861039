"""CVC-ClinicDB colonoscopy polyps: ``Original/N.tif`` frames and ``Ground Truth/N.tif`` 0/255 masks."""

from __future__ import annotations

from pathlib import Path

from custom_networks.data.base import BinaryMaskConverter, Sample, paired_samples
from custom_networks.data.files import locate

__all__ = ["CvcClinicDb"]

_TRUTH_NAMES = ("Ground Truth", "GroundTruth")


def _truth(folder: Path) -> Path | None:
    return next((folder / n for n in _TRUTH_NAMES if (folder / n).is_dir()), None)


class CvcClinicDb(BinaryMaskConverter):
    """CVC-ClinicDB: ``Original/N.tif`` (RGB → PNG; the PNG re-release is copied) + ``Ground Truth/N.tif``
    (0/255 → 0/1). When both the TIF and the PNG release are present the first found is used (and noted).

    Args:
        threshold: binarise masks at this value instead of requiring exactly 0/255.
    """

    name = "cvc_clinicdb"
    description = "CVC-ClinicDB colonoscopy polyp segmentation (RGB, binary polyp masks)"
    layout = "Original/N.tif and Ground Truth/N.tif (or the PNG re-release with the same names)"
    classes = {0: "background", 1: "polyp"}
    channel_names = ("R", "G", "B")

    def find(self, src: Path) -> list[Sample]:
        root = locate(src, lambda d: (d / "Original").is_dir() and _truth(d) is not None)
        if root is None:
            return []
        if root != src:
            self.notes.append(f"using {root}")
        return paired_samples(root / "Original", _truth(root))
