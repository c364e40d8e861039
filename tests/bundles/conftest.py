"""Bundles under test: ``cases/<bundle>.json`` names the dataset a bundle reads and the overrides that shrink it.

Keys of a case file: ``dataset`` (a ``custom_networks.data`` dataset), ``synth_options`` and ``prepare_options``
(extra arguments of ``synthesize`` / ``prepare``), ``overrides`` (bundle config overrides for a tiny run: widths,
ROI, batch size, workers), ``in_channels`` / ``out_channels`` of the network and ``input_ext`` of its images.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "bundles"


@dataclass(frozen=True)
class BundleCase:
    """A bundle, the synthetic raw layout it is trained on and the overrides that shrink it."""

    name: str
    dataset: str
    in_channels: int
    out_channels: int
    input_ext: str = ".png"
    synth_options: dict = field(default_factory=dict)
    prepare_options: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return BUNDLES / self.name

    def config(self, *names: str) -> list[str]:
        return [str(self.root / "configs" / n) for n in names]


CASES = [
    BundleCase(name=path.stem, **json.loads(path.read_text()))
    for path in sorted((Path(__file__).parent / "cases").glob("*.json"))
]
