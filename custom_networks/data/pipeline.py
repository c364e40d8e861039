"""``prepare``: raw release → converted cases + ``datalist.json`` + ``summary.json``, all or nothing."""

from __future__ import annotations

import inspect
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from custom_networks.data.base import Converter
from custom_networks.data.brats import Brats
from custom_networks.data.cvc_clinicdb import CvcClinicDb
from custom_networks.data.datalist import DATALIST, build_datalist, write_json
from custom_networks.data.drosophila_vnc import DrosophilaVnc
from custom_networks.data.dsb2018 import Dsb2018
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.glas2015 import Glas2015
from custom_networks.data.image_folder import ImageFolder
from custom_networks.data.isbi2012 import Isbi2012
from custom_networks.data.isic2017 import Isic2017
from custom_networks.data.isic2018 import Isic2018
from custom_networks.data.kvasir_seg import KvasirSeg
from custom_networks.data.lgg import Lgg
from custom_networks.data.monuseg import MoNuSeg
from custom_networks.data.multiclass_microscopy import MulticlassMicroscopy
from custom_networks.data.murphy import Murphy
from custom_networks.data.output import check_destination, staged_output
from custom_networks.data.splits import assign_splits, check_split_options
from custom_networks.data.summary import Summary, summarize
from custom_networks.data.wsi_tiles import WsiTiles

__all__ = ["DATASETS", "SUMMARY", "make_converter", "option_names", "prepare"]

#: Dataset name (CLI command) → converter class.
DATASETS: dict[str, type[Converter]] = {
    cls.name: cls
    for cls in (
        ImageFolder,
        Isbi2012,
        Isic2018,
        Glas2015,
        Dsb2018,
        Lgg,
        Murphy,
        CvcClinicDb,
        Brats,
        WsiTiles,
        MulticlassMicroscopy,
        Isic2017,
        KvasirSeg,
        DrosophilaVnc,
        MoNuSeg,
    )
}
SUMMARY = "summary.json"


def option_names(dataset: str) -> list[str]:
    """The dataset-specific options (keyword arguments of its converter)."""
    return [p for p in inspect.signature(DATASETS[dataset].__init__).parameters if p != "self"]


def make_converter(dataset: str, options: dict[str, Any]) -> Converter:
    """The converter of ``dataset`` with its ``options``; unknown names are errors listing the valid ones."""
    if dataset not in DATASETS:
        raise DataPreparationError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    unknown = sorted(set(options) - set(option_names(dataset)))
    if unknown:
        valid = ", ".join(f"--{o}" for o in option_names(dataset)) or "none"
        raise DataPreparationError(
            f"unknown option(s) {', '.join('--' + u for u in unknown)} for {dataset} (valid: {valid})"
        )
    return DATASETS[dataset](**options)


def prepare(
    dataset: str,
    src: str | Path,
    dst: str | Path,
    *,
    seed: int = 0,
    test_fraction: float = 0.3,
    num_folds: int = 5,
    progress: bool = True,
    verbose: bool = True,
    **options: Any,
) -> Summary:
    """Convert the raw release of ``dataset`` in ``src`` into ``dst`` (``datalist.json``, ``summary.json``,
    ``images/``, ``labels/``).

    The output is built in a temporary folder beside ``dst`` and moved into place only when every case passed
    its checks; an existing ``dst`` from an earlier run is replaced then, and left untouched on error. The same
    input and options give the same output.

    Args:
        dataset: one of :data:`DATASETS`.
        src: the folder holding the release as downloaded (or the folder above it).
        dst: the output folder.
        seed: seed of the split; the same seed gives the same split.
        test_fraction: fraction of cases (whole patients for grouped datasets) held out as ``testing``.
        num_folds: number of cross-validation folds of the ``training`` part.
        progress: show a progress bar.
        verbose: print the summary.
        options: dataset-specific options (see each converter).

    Raises:
        DataPreparationError: bad input, naming the file and the problem.
    """
    check_split_options(seed, test_fraction, num_folds)
    converter = make_converter(dataset, options)
    source = Path(src).expanduser().resolve()
    if not source.is_dir():
        raise DataPreparationError("source folder does not exist (or is not a folder)", source)
    destination = check_destination(Path(dst), DATALIST, source)
    samples = converter.find(source)
    if not samples:
        raise converter.nothing_found(source)
    repeated = [name for name, n in Counter(s.name for s in samples).items() if n > 1]
    if repeated:
        raise DataPreparationError(f"case name {repeated[0]!r} occurs more than once", source)
    folds = assign_splits([s.group for s in samples], seed=seed, test_fraction=test_fraction, num_folds=num_folds)
    settings = {"seed": seed, "test_fraction": test_fraction, "num_folds": num_folds}
    with staged_output(destination, DATALIST) as staging:
        results = [
            converter.convert(sample, staging)
            for sample in tqdm(samples, desc=f"prepare {dataset}", unit="case", disable=not progress)
        ]
        datalist = build_datalist(converter, samples, results, folds, staging, settings)
        classes = {int(v): name for v, name in datalist["labels"].items()}
        summary = summarize(dataset, destination, samples, results, folds, classes, converter.notes)
        write_json(summary.to_dict(), staging / SUMMARY)
        write_json(datalist, staging / DATALIST)
    if verbose:
        print(summary.format())
    return summary
