"""Murphy-lab fluorescence nuclei (Coelho et al. 2009): DNA images with hand-segmented instance labels."""

from __future__ import annotations

from pathlib import Path

from custom_networks.data.base import InstanceLabelConverter, Sample, paired_samples
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import list_dirs, locate

__all__ = ["Murphy"]


class Murphy(InstanceLabelConverter):
    """Murphy: ``images/{gnf,ic100}/dna-N.png`` (grayscale, copied) + ``labels/{gnf,ic100}/dna-N.png`` (instance
    labels, foreground = label > 0 → 0/1). Case names are ``<collection>_dna-N``; ``collection`` is kept."""

    name = "murphy"
    description = "Murphy-lab U2OS/NIH3T3 nuclei (grayscale fluorescence, binary nucleus masks)"
    layout = "images/{gnf,ic100}/dna-N.png and labels/{gnf,ic100}/dna-N.png"
    classes = {0: "background", 1: "nucleus"}
    channels = (1,)
    channel_names = ("DNA",)

    def find(self, src: Path) -> list[Sample]:
        root = locate(src, lambda d: (d / "images").is_dir() and (d / "labels").is_dir())
        if root is None:
            return []
        image_sets = {d.name for d in list_dirs(root / "images")}
        for labels in list_dirs(root / "labels"):
            if labels.name not in image_sets:
                raise DataPreparationError(f"label collection has no images/{labels.name}", labels)
        samples = []
        for images in list_dirs(root / "images"):
            labels = root / "labels" / images.name
            if not labels.is_dir():
                raise DataPreparationError(f"image collection has no labels (expected {labels})", images)
            samples += paired_samples(images, labels, prefix=f"{images.name}_", extra={"collection": images.name})
        return samples
