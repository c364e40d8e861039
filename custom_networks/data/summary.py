"""What was prepared: cases and groups per split and fold, image sizes and channels, class balance."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custom_networks.data.base import Converted, Sample
from custom_networks.data.splits import TEST

__all__ = ["Summary", "summarize"]

_SHOWN_SIZES = 6


@dataclass
class Summary:
    """Statistics of a prepared dataset.

    Attributes:
        dataset: dataset name.
        destination: the output folder.
        rows: split name ("training", "fold 0", …, "testing", "all") → {"cases", "groups", class name → fraction
            of the pixels (voxels) of that split with that class}.
        sizes: spatial size ("256×320") → number of cases.
        channels: channel count → number of cases.
        classes: class names, in label-value order.
        notes: remarks of the converter (layout detected, files not used, …).
    """

    dataset: str
    destination: Path
    rows: dict[str, dict[str, float]]
    sizes: dict[str, int]
    channels: dict[int, int]
    classes: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (written as ``summary.json``)."""
        return {
            "dataset": self.dataset,
            "splits": self.rows,
            "image_sizes": self.sizes,
            "channels": {str(k): v for k, v in self.channels.items()},
            "classes": self.classes,
            "notes": self.notes,
        }

    def format(self) -> str:
        """A short human-readable report."""
        total = self.rows["all"]
        lines = [f"Prepared {self.dataset}: {int(total['cases'])} cases -> {self.destination}"]
        width = max(8, *(len(c) for c in self.classes))
        header = f"  {'split':<10}{'cases':>7}{'groups':>8}" + "".join(f"{c:>{width + 2}}" for c in self.classes)
        lines += [header, "  " + "-" * (len(header) - 2)]
        for name, row in self.rows.items():
            label = name if not name.startswith("fold") else "  " + name
            fractions = "".join(f"{row[c]:>{width + 2}.4f}" for c in self.classes)
            lines.append(f"  {label:<10}{int(row['cases']):>7}{int(row['groups']):>8}{fractions}")
        lines.append("  (class columns: fraction of pixels/voxels per class)")
        shown = list(self.sizes.items())[:_SHOWN_SIZES]
        sizes = ", ".join(f"{size} ({count})" for size, count in shown)
        if len(self.sizes) > len(shown):
            areas = sorted(self.sizes, key=lambda s: math.prod(int(n) for n in s.split("×")))
            sizes += f", … {len(self.sizes) - len(shown)} more (smallest {areas[0]}, largest {areas[-1]})"
        lines.append(f"  image sizes (cases): {sizes}")
        lines.append("  channels: " + ", ".join(f"{c} ({n})" for c, n in self.channels.items()))
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _row(members: Sequence[tuple[Sample, Converted]], classes: Mapping[int, str]) -> dict[str, float]:
    pixels: Counter[int] = Counter()
    for _, result in members:
        pixels.update(result.pixels)
    total = sum(pixels.values()) or 1
    row: dict[str, float] = {"cases": len(members), "groups": len({s.group for s, _ in members})}
    row.update({name: round(pixels[value] / total, 6) for value, name in classes.items()})
    return row


def summarize(
    dataset: str,
    destination: Path,
    samples: Sequence[Sample],
    results: Sequence[Converted],
    folds: Sequence[int],
    classes: Mapping[int, str],
    notes: Sequence[str] = (),
) -> Summary:
    """Collect the statistics of the converted cases (``classes``: label value → name, every value present)."""
    pairs = list(zip(samples, results, strict=True))
    by_split: dict[str, list] = {"training": [p for p, f in zip(pairs, folds, strict=True) if f != TEST]}
    for fold in sorted({f for f in folds if f != TEST}):
        by_split[f"fold {fold}"] = [p for p, f in zip(pairs, folds, strict=True) if f == fold]
    by_split["testing"] = [p for p, f in zip(pairs, folds, strict=True) if f == TEST]
    by_split["all"] = pairs
    sizes = Counter("×".join(str(n) for n in r.shape) for r in results)
    channels = Counter(r.channels for r in results)
    return Summary(
        dataset=dataset,
        destination=destination,
        rows={name: _row(members, classes) for name, members in by_split.items()},
        sizes=dict(sizes.most_common()),
        channels=dict(sorted(channels.items())),
        classes=list(classes.values()),
        notes=list(notes),
    )
