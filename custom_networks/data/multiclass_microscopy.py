"""Multi-class microscopy (Res-CR-Net): ``images/*`` with index or colour-coded ``masks/*`` of the same stem."""

from __future__ import annotations

from collections.abc import Sequence

from custom_networks.data.image_folder import ImageFolder

__all__ = ["MulticlassMicroscopy"]


class MulticlassMicroscopy(ImageFolder):
    """Multi-class microscopy: ``images/<stem>.*`` (grayscale or RGB, PNG copied, others → PNG) +
    ``masks/<stem>.*``, written as class indices 0 … K-1 (the ``folder`` layout with its mask folder fixed).

    Without ``palette`` a mask is an index image (a palette PNG keeps its indices). With ``palette`` a mask is
    colour-coded: entry i of the palette (an RGB triple, or a gray level for grayscale masks) is class i, e.g.
    ``--palette "[[0,255,0],[255,0,0],[0,0,255]]"``; a colour outside the palette is an error.

    Args:
        palette: list of colours (RGB triples or gray levels), JSON text, or a JSON file path.
        num_classes: number of classes of index masks (default: the palette's length, or inferred from the data).
        class_names: one name per class.
        tolerance: largest per-channel colour difference still matched to a palette colour (default 0: exact).
    """

    name = "multiclass_microscopy"
    description = "Multi-class microscopy (grayscale or RGB images, class-index masks)"
    layout = "images/<stem>.{png,tif,…} and masks/<stem>.{png,tif,…}"

    def __init__(
        self,
        palette: str | Sequence | None = None,
        num_classes: int | None = None,
        class_names: Sequence[str] | None = None,
        tolerance: int = 0,
    ) -> None:
        super().__init__(
            masks="masks", palette=palette, num_classes=num_classes, class_names=class_names, tolerance=tolerance
        )
