"""Command line of ``scripts/prepare_data.py`` (a ``fire`` CLI; the logic lives in :mod:`.pipeline`).

    python scripts/prepare_data.py <dataset> --src RAW_DIR --dst DATA_DIR [--seed 0] [--test_fraction 0.3]
        [--num_folds 5] [--progress False] [--<dataset option> VALUE ...]
    python scripts/prepare_data.py synthesize <dataset> --dst RAW_DIR [--count 12] [--size 64] [--seed 0]
    python scripts/prepare_data.py datasets

Bad input prints ``error: <file>: <problem>`` on stderr and exits with status 1 (:mod:`custom_networks.errors`).
"""

from __future__ import annotations

import difflib
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any

import fire

from custom_networks.data.errors import DataPreparationError
from custom_networks.data.pipeline import DATASETS, option_names, prepare
from custom_networks.data.synthetic import synthesize
from custom_networks.errors import errors_in_one_line

__all__ = ["main"]


def _dataset_command(dataset: str) -> Callable[..., None]:
    converter = DATASETS[dataset]

    def command(
        src: str,
        dst: str,
        seed: int = 0,
        test_fraction: float = 0.3,
        num_folds: int = 5,
        progress: bool = True,
        **options: Any,
    ) -> None:
        prepare(
            dataset,
            str(src),
            str(dst),
            seed=seed,
            test_fraction=test_fraction,
            num_folds=num_folds,
            progress=progress,
            **options,
        )

    options = ", ".join(f"--{o}" for o in option_names(dataset)) or "none"
    command.__name__ = dataset
    command.__doc__ = (
        f"{converter.description}.\n\nRaw layout: {converter.layout}.\nDataset options: {options}.\n\n"
        + inspect.cleandoc(converter.__doc__ or "").replace("Args:", "Dataset options (--option VALUE):")
    )
    return command


def _synthesize(dataset: str, dst: str, count: int = 12, size: int = 64, seed: int = 0, **options: Any) -> None:
    """Write a small synthetic copy of DATASET's raw layout to DST (see custom_networks.data.synthetic)."""
    print(synthesize(dataset, str(dst), count=count, size=size, seed=seed, **options))


def _datasets() -> None:
    """List the supported datasets."""
    for name, converter in DATASETS.items():
        print(f"{name:<24}{converter.description}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; bad input exits with status 1 and a one-line message instead of a traceback."""
    commands: dict[str, Callable[..., None]] = {name: _dataset_command(name) for name in DATASETS}
    commands.update(synthesize=_synthesize, datasets=_datasets)
    argv = sys.argv[1:] if argv is None else list(argv)
    with errors_in_one_line():
        if argv and not argv[0].startswith("-") and argv[0] not in commands:
            close = difflib.get_close_matches(argv[0], commands, n=1)
            hint = f"did you mean {close[0]}?" if close else "`datasets` lists them"
            raise DataPreparationError(f"{argv[0]}: no such dataset; {hint}")
        fire.Fire(commands, command=argv, name="prepare_data.py")
