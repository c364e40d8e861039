"""Bundles under test: each with the dataset it reads and the overrides that make it tiny enough for CI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "bundles"


@dataclass(frozen=True)
class BundleCase:
    """A bundle, the synthetic raw layout it is trained on and the overrides that shrink it."""

    name: str
    dataset: str
    synth_options: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return BUNDLES / self.name

    def config(self, *names: str) -> list[str]:
        return [str(self.root / "configs" / n) for n in names]


CASES = [
    BundleCase(
        name="mildnet_dsb2018_nuclei",
        dataset="dsb2018",
        synth_options={"count": 12, "size": 64},
        overrides={"features": [4, 8, 16, 32, 64], "roi_size": [32, 32], "batch_size": 2, "num_workers": 0},
    ),
]
