"""run_benchmark: sections chosen by name, the JSON file rewritten after each, unknown names refused."""

import json
import subprocess
import sys

import pytest

from custom_networks.benchmark import SECTIONS, run_benchmark
from custom_networks.benchmark.runner import Section
from tests.subprocesses import ROOT


def test_json_is_rewritten_after_every_section(tmp_path, monkeypatch, capsys):
    out = tmp_path / "report.json"

    def probe(run):  # runs second: what the file holds then was written after the first section
        written = json.loads(out.read_text())
        return [{"section": "probe", "sections_written": sorted({row["section"] for row in written["results"]})}]

    monkeypatch.setitem(SECTIONS, "probe", Section(probe, [("sections_written", "Written")]))
    run_benchmark(quick=True, sections="machine_limits,probe", json=str(out))
    report = json.loads(out.read_text())
    assert [row["section"] for row in report["results"]][-1] == "probe"
    assert {row["section"] for row in report["results"]} == {"machine_limits", "probe"}
    assert report["results"][-1]["sections_written"] == ["machine_limits"]
    assert report["machine"]["machine_limits_seconds"] > 0 and "probe_load_average" in report["machine"]
    stdout = capsys.readouterr().out
    assert stdout.startswith("torch threads: ") and "## machine_limits" in stdout and "| matmul float32 |" in stdout
    assert "## network_steps" not in stdout  # only the chosen sections run


def test_unknown_section_is_refused():
    with pytest.raises(ValueError, match="warp_drive"):
        run_benchmark(sections="machine_limits,warp_drive")


def test_the_script_refuses_unknown_networks():
    result = subprocess.run(
        [sys.executable, "scripts/benchmark.py", "--networks", "ResCRNet,HAL9000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert result.returncode != 0
    assert "--networks: unknown ['HAL9000']" in result.stderr
    assert "torch threads" not in result.stdout  # refused before anything runs
