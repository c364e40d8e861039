"""The sections by name and :func:`run_benchmark`, which runs them and reports each."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from custom_networks.benchmark import (
    data_pipeline,
    freed_memory,
    machine_limits,
    network_steps,
    optimisations,
    sliding_window_3d,
    training_epochs,
)
from custom_networks.benchmark.report import format_table, machine_info, write_json
from custom_networks.benchmark.settings import BenchmarkSettings, Row, names, run_settings
from custom_networks.errors import BadValueError

__all__ = ["SECTIONS", "Section", "run_benchmark"]


class Section(NamedTuple):
    """A section: the function that measures and returns its rows, and its table's ``(key, header)`` columns."""

    measure: Callable[[BenchmarkSettings], list[Row]]
    columns: list[tuple[str, str]]


# name -> section, in the order they run
SECTIONS: dict[str, Section] = {
    "machine_limits": Section(machine_limits.machine_limits, machine_limits.COLUMNS),
    "network_steps": Section(network_steps.network_steps, network_steps.COLUMNS),
    "optimisations": Section(optimisations.optimisations, optimisations.COLUMNS),
    "freed_memory": Section(freed_memory.freed_memory, freed_memory.COLUMNS),
    "data_pipeline": Section(data_pipeline.data_pipeline, data_pipeline.COLUMNS),
    "training_epochs": Section(training_epochs.training_epochs, training_epochs.COLUMNS),
    "sliding_window_3d": Section(sliding_window_3d.sliding_window_3d, sliding_window_3d.COLUMNS),
}


def section_names(sections: str | Sequence[str] | None) -> list[str]:
    """The chosen sections, all by default.

    Raises:
        BadValueError: an unknown name, with the names to choose from.
    """
    chosen = list(SECTIONS) if sections is None else names(sections)
    if unknown := [name for name in chosen if name not in SECTIONS]:
        raise BadValueError(f"--sections: unknown {unknown}; choose from {list(SECTIONS)}.")
    return chosen


def run_benchmark(
    device: str = "cpu",
    json: str | None = None,
    quick: bool = False,
    repeats: int | None = None,
    sections: str | Sequence[str] | None = None,
    compile: str | Sequence[str] | None = None,  # noqa: A002 - the name of the switch it measures
    spatial_dims: int | Sequence[int] | None = None,
    networks: str | Sequence[str] | None = None,
) -> None:
    """Print the machine, then run the sections and print a table for each.

    Args:
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        json: optional path of a JSON file to write ``{"machine": ..., "results": [rows]}`` to; rewritten after
            every section, so an interrupted run keeps what it measured.
        quick: smoke mode for CI: small inputs, tiny networks, no warm-up, one repeat unless ``repeats`` is given.
        repeats: timed runs per step measurement (default 3, 1 with ``quick``); their median is reported.
        sections: comma-separated names of the sections to run (default: all, in the order of ``SECTIONS``).
        compile: comma-separated class names of the networks whose ``torch.compile`` variant ``optimisations``
            measures (default ``MILDNet``, none with ``quick``; ``none`` for none).
        spatial_dims: the ranks of the networks ``network_steps``, ``optimisations`` and ``freed_memory`` measure
            (2, 3 or both; default both, 2 with ``quick``).
        networks: comma-separated class names of the networks ``network_steps``, ``optimisations`` and
            ``freed_memory`` measure (default: all of ``custom_networks.nets.registry.NETWORKS``).

    Raises:
        BadValueError: an unknown section or network, or an option out of range, with a message saying which.
    """
    chosen = section_names(sections)
    run = run_settings(device, quick, repeats, compile, spatial_dims, networks)
    machine = machine_info(run)
    print(f"torch threads: {machine['torch_threads']}, device: {machine['device']}", flush=True)
    print(", ".join(f"{key}: {value}" for key, value in machine.items()), flush=True)
    results = []
    for name in chosen:
        section = SECTIONS[name]
        start = time.perf_counter()
        rows = section.measure(run)
        machine[f"{name}_seconds"] = time.perf_counter() - start
        machine[f"{name}_load_average"] = os.getloadavg()[0]  # 1-minute load at its end: other work on the machine
        results += rows
        print(f"\n## {name}\n\n{format_table(rows, section.columns)}", flush=True)
        if json is not None:
            write_json(Path(json), {"machine": machine, "results": results})
