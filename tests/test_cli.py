"""The ``custom-networks`` command and the repository's scripts: help without torch, one-line mistakes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from custom_networks.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
SPHINX = re.compile(r":(func|class|data|mod|meth|attr):|``")


def _run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=300
    )


def _last_line(result: subprocess.CompletedProcess) -> str:
    return [line for line in result.stderr.splitlines() if line.strip()][-1]


def test_the_overview_lists_every_command(tmp_path: Path):
    result = _run(sys.executable, "-m", "custom_networks", "--help", cwd=tmp_path)
    assert result.returncode == 0 and all(f"  {name} " in result.stdout for name in COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_imports_neither_torch_nor_monai(name: str, tmp_path: Path):
    """The usage of each command comes without its work's imports (what keeps ``--help`` fast), free of Sphinx."""
    check = (
        "import sys; from custom_networks.cli import main; main([sys.argv[1], '--help']); "
        "heavy = sorted({'torch', 'monai'} & set(sys.modules)); assert not heavy, heavy"
    )
    result = _run(sys.executable, "-c", check, name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"usage: custom-networks {name}" in result.stdout and not SPHINX.search(result.stdout)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_script_answers_help(script: Path):
    result = _run(sys.executable, script, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout, result.stderr
    assert not SPHINX.search(result.stdout), result.stdout


def test_the_installed_command_works_from_any_folder(tmp_path: Path):
    command = Path(sys.executable).parent / "custom-networks"
    assert command.is_file(), "pip install -e . installs the custom-networks command"
    result = _run(command, "cross-validate", "--bundle", "no_such_bundle", "--dataset_dir", tmp_path, cwd=tmp_path)
    assert result.returncode == 1
    assert _last_line(result).startswith("error: no_such_bundle: no such bundle: not a folder with configs/train.json")


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (["cross-valdate"], "error: cross-valdate: no such command of custom-networks; did you mean cross-validate?"),
        (["visualize", "--report", "x"], "error: --report: visualize has no such option; did you mean --report_dir?"),
        (["benchmark", "--sections", "nothing_such"], "error: "),
        (["prepare", "no_such_dataset", "--src", "a", "--dst", "b"], "error: "),
    ],
    ids=["command", "option", "benchmark", "prepare"],
)
def test_a_mistake_ends_with_one_line(arguments: list[str], line: str, tmp_path: Path):
    result = _run(sys.executable, "-m", "custom_networks", *arguments, cwd=tmp_path)
    assert result.returncode == 1 and _last_line(result).startswith(line), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_a_missing_report_is_named(tmp_path: Path):
    result = _run(sys.executable, ROOT / "scripts/visualize.py", "--report_dir", tmp_path / "report", cwd=tmp_path)
    assert result.returncode == 1
    assert _last_line(result) == f"error: {tmp_path / 'report' / 'results.csv'}: No such file or directory"
