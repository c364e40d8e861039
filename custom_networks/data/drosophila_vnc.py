"""Drosophila larva VNC ssTEM stack (Gerhard et al. 2013): grey EM sections with a merged multi-class label map."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from custom_networks.data.base import PlanarConverter, Sample
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import index_by_key, list_files, locate, pair_by_key, stem
from custom_networks.data.images import read_image
from custom_networks.data.labels import lookup_mask
from custom_networks.data.splits import check_block

__all__ = ["MAPPINGS", "MAP_VALUES", "DrosophilaVnc"]

#: Grey level of the publisher's merged label map (``stack1/labels``) → what it marks.
MAP_VALUES = {
    0: "membrane |",
    32: "membrane /",
    64: "membrane -",
    96: "membrane \\",
    128: "membrane junction",
    159: "glia/extracellular",
    191: "mitochondrion",
    223: "synapse",
    255: "intracellular",
}
_MEMBRANE = (0, 32, 64, 96, 128, 159)  # the publisher's stack1/membranes/*.png, less its synapse pixels

#: Mapping preset → (class index → class name, map value → class index).
MAPPINGS: dict[str, tuple[dict[int, str], dict[int, int]]] = {
    "membrane": ({0: "membrane", 1: "cell"}, {v: 0 if v in _MEMBRANE else 1 for v in MAP_VALUES}),
    "organelles": (
        {0: "other", 1: "membrane", 2: "mitochondrion"},
        {v: 1 if v in _MEMBRANE else 2 if v == 191 else 0 for v in MAP_VALUES},
    ),
}
_RAW_NAME, _LABEL_NAME = re.compile(r"(\d+)"), re.compile(r"labels(\d+)")


def _section(path: Path, pattern: re.Pattern, expected: str) -> str:
    """The section number of a raw (``07.tif``) or label (``labels00000007.png``) file, as a key ("7")."""
    match = pattern.fullmatch(stem(path))
    if match is None:
        raise DataPreparationError(f"not a section file name (expected {expected})", path)
    return str(int(match.group(1)))


class DrosophilaVnc(PlanarConverter):
    """Drosophila VNC ssTEM (stack 1): ``stack1/raw/NN.tif`` (8-bit grey 1024² → PNG) + ``stack1/labels/
    labels000000NN.png`` (merged map → class indices by ``mapping``). Each section is one case (``slice`` = NN);
    ``membranes/``, ``mitochondria/``, ``synapses/`` (the same annotation split up) and the unlabelled ``stack2``
    are not read. A map value outside the publisher's nine (:data:`MAP_VALUES`) is an error.

    Mappings (map value → class index):

    - ``membrane`` (binary, as ISBI-2012 and the MILDNet EM bundle): 0 membrane = 0, 32, 64, 96 (oriented
      membranes), 128 (junctions), 159 (glia/extracellular); 1 cell = 191 (mitochondria), 223 (synapses),
      255 (intracellular). Glia/extracellular counts as membrane because the publisher's own binary
      ``membranes/*.png`` marks every such pixel as membrane.
    - ``organelles`` (the three classes of the Res-CR-Net EM organelle bundle, mitochondrion at index 2):
      0 other = 223 (synapses), 255 (intracellular); 1 membrane = 0, 32, 64, 96, 128, 159 (as above);
      2 mitochondrion = 191. Synapses (under 1 % of the pixels) are "other", the bundle's class for everything
      else: the map's synapse regions lie only about half on the publisher's membranes, and are no organelle.

    Sections of a stack are adjacent (45–50 nm apart), so neighbouring sections look alike: a split by section
    (the default, as for ISBI-2012) puts near-copies of test sections into training. ``block`` > 1 splits
    contiguous blocks of sections instead (sections ``k·block … k·block+block-1`` share a split and fold), e.g.
    ``--block 4 --test_fraction 0.2 --num_folds 4`` for the publisher's suggested 80/20 split in five blocks.

    Args:
        mapping: ``membrane`` (default) or ``organelles``.
        block: number of consecutive sections per split group (1 = split section by section).
    """

    name = "drosophila_vnc"
    description = "Drosophila larva VNC ssTEM (grayscale EM, membrane/cell or other/membrane/mitochondrion labels)"
    layout = "stack1/raw/NN.tif and stack1/labels/labels000000NN.png"
    channels = (1,)
    channel_names = ("EM",)

    def __init__(self, mapping: str = "membrane", block: int = 1) -> None:
        super().__init__()
        if mapping not in MAPPINGS:
            raise DataPreparationError(f"--mapping must be one of {', '.join(MAPPINGS)}, got {mapping!r}")
        self.mapping = mapping
        self.classes, self.table = MAPPINGS[mapping]
        self.block = check_block(block)

    def find(self, src: Path) -> list[Sample]:
        root = locate(src, lambda d: (d / "raw").is_dir() and (d / "labels").is_dir())
        if root is None:
            return []
        raw_dir, label_dir = root / "raw", root / "labels"
        raws = index_by_key(list_files(raw_dir, (".tif", ".tiff")), lambda p: _section(p, _RAW_NAME, "NN.tif"))
        labels = index_by_key(
            list_files(label_dir, (".png",)), lambda p: _section(p, _LABEL_NAME, "labelsNNNNNNNN.png")
        )
        keys = pair_by_key(raws, labels, lambda key: str(label_dir / f"labels{int(key):08d}.png"))
        return [self._sample(root, int(key), raws[key], labels[key]) for key in keys]

    def _sample(self, root: Path, section: int, image: Path, label: Path) -> Sample:
        name = f"{root.name}_{section:02d}"
        group = name if self.block == 1 else f"{root.name}_block_{section // self.block}"
        return Sample(name, image, label, group, {"case": name, "slice": section})

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        return lookup_mask(read_image(sample.label, index_colours=True), self.table, sample.label)
