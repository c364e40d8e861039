"""What a benchmark run reports: the machine it ran on, one Markdown table per section, the JSON file of all rows."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import monai
import torch

from custom_networks.benchmark.settings import BenchmarkSettings, Row

__all__ = ["format_table", "machine_info", "write_json"]


def machine_info(run: BenchmarkSettings) -> dict[str, Any]:
    """What the numbers depend on: versions, CPU, thread count, device, mode."""
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "monai": monai.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "device": str(run.device),
        "quick": run.quick,
        "repeats": run.repeats,
        "compile": list(run.compile),
        "spatial_dims": list(run.spatial_dims),
        "networks": list(run.networks) or "all",
    }
    if run.device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(run.device)
    return info


def _cell(value: Any) -> str:
    """Integers with thousands separators, floats with three significant decimals, ``None`` as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"


def format_table(rows: Sequence[Row], columns: Sequence[tuple[str, str]]) -> str:
    """A Markdown table of ``rows`` with the ``(key, header)`` columns; columns empty in every row are left out."""
    columns = [(key, header) for key, header in columns if any(row.get(key) is not None for row in rows)]
    lines = [[header for _, header in columns], ["---"] * len(columns)]
    lines += [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, creating the parent folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
