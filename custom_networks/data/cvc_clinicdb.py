"""CVC-ClinicDB colonoscopy polyps: ``Original/N.tif`` frames and ``Ground Truth/N.tif`` 0/255 masks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from custom_networks.data.base import BinaryMaskConverter, Sample, paired_samples
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import locate
from custom_networks.data.splits import check_block

__all__ = ["CvcClinicDb"]

_TRUTH_NAMES = ("Ground Truth", "GroundTruth")


def _truth(folder: Path) -> Path | None:
    return next((folder / n for n in _TRUTH_NAMES if (folder / n).is_dir()), None)


class CvcClinicDb(BinaryMaskConverter):
    """CVC-ClinicDB: ``Original/N.tif`` (RGB → PNG; the PNG re-release is copied) + ``Ground Truth/N.tif``
    (0/255 → 0/1). When both the TIF and the PNG release are present the first found is used (and noted).

    The frames come from 31 colonoscopy videos, and consecutive frames of a video are near-copies; the release
    does not say which frames belong to which video. ``block`` > 1 keeps frames ``k·block + 1 … (k + 1)·block`` in
    one split and fold (e.g. ``--block 20``, about the 612 frames' mean video length), so that most near-copies
    of a test frame are not trained on; the default splits frame by frame.

    Args:
        threshold: binarise masks at this value instead of requiring exactly 0/255.
        block: number of consecutive frame numbers per split group (1 = split frame by frame).
    """

    name = "cvc_clinicdb"
    description = "CVC-ClinicDB colonoscopy polyp segmentation (RGB, binary polyp masks)"
    layout = "Original/N.tif and Ground Truth/N.tif (or the PNG re-release with the same names)"
    classes = {0: "background", 1: "polyp"}
    channel_names = ("R", "G", "B")

    def __init__(self, threshold: float | None = None, block: int = 1) -> None:
        super().__init__(threshold)
        self.block = check_block(block)

    def find(self, src: Path) -> list[Sample]:
        root = locate(src, lambda d: (d / "Original").is_dir() and _truth(d) is not None)
        if root is None:
            return []
        if root != src:
            self.notes.append(f"using {root}")
        samples = paired_samples(root / "Original", _truth(root))
        return samples if self.block == 1 else [replace(s, group=self._frames(s)) for s in samples]

    def _frames(self, sample: Sample) -> str:
        """The split group of a frame: its block of ``block`` consecutive frame numbers."""
        if not sample.name.isdigit():
            raise DataPreparationError("--block needs numbered frames (N.tif)", sample.image)
        first = (int(sample.name) - 1) // self.block * self.block + 1
        return f"frames_{first}-{first + self.block - 1}"
