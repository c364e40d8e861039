"""Make the quick start's embedded real data: a small, deterministic sample of the DSB-2018 stage-1 training set.

    python scripts/make_demo_sample.py [--src ../shared/data/dsb2018_stage1_train_subset] [--dst demo/dsb2018_sample]
        [--brightfield 6] [--budget 2400000] [--max_side 360] [--max_case_bytes 150000]

The rule (:data:`RULE`, :func:`select_cases`) keeps small cases of both modalities in id order until the byte budget
is spent. The cases are copied byte for byte to ``DST/stage1_train/<id>/{images,masks}/``, with ``DST/LICENSE.md``
(source, CC0 terms, citation, the rule and the list of cases); an earlier ``DST/stage1_train`` is replaced.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from custom_networks.cli import run_script

COMMAND = "python scripts/make_demo_sample.py"
DEFAULTS = {"brightfield": 6, "budget": 2_400_000, "max_side": 360, "max_case_bytes": 150_000}
RULE = (
    "the cases of `stage1_train` sorted by id; a case is a candidate when both sides of its image are at most "
    "{max_side} pixels and its files (image and masks) total at most {max_case_bytes:,} bytes. A case is brightfield "
    "when the mean of its image's RGB values is above 127 (light background), fluorescence otherwise (dark "
    "background). The sample is the first {brightfield} brightfield candidates, then the fluorescence candidates in "
    "id order as long as the files of all chosen cases total at most {budget:,} bytes (it stops at the first case "
    "that does not fit)."
)


@dataclass(frozen=True)
class Case:
    """One ``stage1_train/<id>`` folder: image size, bytes of its files, modality and number of nuclei."""

    folder: Path
    height: int
    width: int
    size: int
    brightfield: bool
    nuclei: int

    @property
    def files(self) -> list[Path]:
        return sorted(f for f in self.folder.rglob("*") if f.is_file())


def describe(folder: Path) -> Case:
    """Measure one case folder (``images/<id>.png`` and ``masks/*.png``)."""
    (image_file,) = sorted((folder / "images").glob("*.png"))
    with Image.open(image_file) as image:
        rgb = np.asarray(image.convert("RGB"))
    files = [f for f in folder.rglob("*") if f.is_file()]
    return Case(
        folder=folder,
        height=rgb.shape[0],
        width=rgb.shape[1],
        size=sum(f.stat().st_size for f in files),
        brightfield=bool(rgb.mean() > 127),
        nuclei=len(list((folder / "masks").glob("*.png"))),
    )


def select_cases(
    root: Path,
    brightfield: int = DEFAULTS["brightfield"],
    budget: int = DEFAULTS["budget"],
    max_side: int = DEFAULTS["max_side"],
    max_case_bytes: int = DEFAULTS["max_case_bytes"],
) -> list[Case]:
    """The sample's cases from ``root`` (the ``stage1_train`` folder), by :data:`RULE`."""
    candidates = [
        case
        for case in map(describe, sorted(p for p in root.iterdir() if p.is_dir()))
        if max(case.height, case.width) <= max_side and case.size <= max_case_bytes
    ]
    chosen = [case for case in candidates if case.brightfield][:brightfield]
    total = sum(case.size for case in chosen)
    if len(chosen) < brightfield or total > budget:
        raise ValueError(
            f"{len(chosen)} brightfield candidates of {total} bytes: fewer than {brightfield} or over {budget}"
        )
    for case in (case for case in candidates if not case.brightfield):
        if total + case.size > budget:
            break
        chosen.append(case)
        total += case.size
    return sorted(chosen, key=lambda case: case.folder.name)


def licence_note(cases: list[Case], **params: int) -> str:
    """Text of ``LICENSE.md``: source, terms, citation, the rule with ``params`` (:data:`DEFAULTS`'s keys), the command
    and the cases."""
    total = sum(case.size for case in cases)
    brightfield = sum(case.brightfield for case in cases)
    intro = (
        f"Real data of the quick start (`scripts/demo.sh`): {len(cases)} cases ({len(cases) - brightfield} "
        f"fluorescence, {brightfield} brightfield) of the Kaggle Data Science Bowl 2018 stage 1 training set "
        "(`stage1_train`), in the layout Kaggle distributes: `stage1_train/<id>/images/<id>.png` (RGBA) and "
        "`stage1_train/<id>/masks/*.png` (one 0/255 mask per nucleus). The files are byte-identical copies of the "
        "project's shared copy of the data (`../shared/data/dsb2018_stage1_train_subset`, 100 of the 670 cases): "
        f"{total:,} bytes of files."
    )
    options = " ".join(f"--{key} {value}" for key, value in params.items())
    rows = "\n".join(
        f"| `{case.folder.name}` | {case.width}×{case.height} | {'brightfield' if case.brightfield else 'fluorescence'}"
        f" | {case.nuclei} | {case.size:,} |"
        for case in cases
    )
    return f"""# DSB-2018 demo sample

{textwrap.fill(intro, 120)}

## Licence
The DSB-2018 stage 1 images and annotations are released under CC0 1.0 Universal (public domain dedication): no
rights reserved, no conditions. Please cite the dataset's paper when you use it:

Caicedo, J. C., Goodman, A., Karhohs, K. W. et al. Nucleus segmentation across imaging experiments: the 2018 Data
Science Bowl. *Nature Methods* 16, 1247–1253 (2019). https://doi.org/10.1038/s41592-019-0612-7

## How the cases were chosen
From the repository root, with the shared data at `../shared/data/dsb2018_stage1_train_subset`:

    {COMMAND} {options}

{textwrap.fill("Rule: " + RULE.format(**params), 120)}

| case id | image (w×h) | modality | nuclei | bytes |
|---|---|---|---|---|
{rows}
"""


def make_sample(
    src: str = "../shared/data/dsb2018_stage1_train_subset",
    dst: str = "demo/dsb2018_sample",
    brightfield: int = DEFAULTS["brightfield"],
    budget: int = DEFAULTS["budget"],
    max_side: int = DEFAULTS["max_side"],
    max_case_bytes: int = DEFAULTS["max_case_bytes"],
) -> None:
    """Copy the selected cases of ``SRC/stage1_train`` to ``DST/stage1_train`` and write ``DST/LICENSE.md``."""
    params = {"brightfield": brightfield, "budget": budget, "max_side": max_side, "max_case_bytes": max_case_bytes}
    cases = select_cases(Path(src) / "stage1_train", **params)
    out = Path(dst) / "stage1_train"
    shutil.rmtree(out, ignore_errors=True)
    for case in cases:
        for file in case.files:
            target = out / file.relative_to(case.folder.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
    (Path(dst) / "LICENSE.md").write_text(licence_note(cases, **params), encoding="utf-8")
    brightfield_count = sum(case.brightfield for case in cases)
    print(
        f"{len(cases)} cases ({len(cases) - brightfield_count} fluorescence, {brightfield_count} brightfield), "
        f"{sum(case.size for case in cases):,} bytes of files -> {out}"
    )


if __name__ == "__main__":
    run_script(make_sample, __doc__)
