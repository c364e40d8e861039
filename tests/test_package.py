"""custom_networks is installed (not found through the working directory) and importable from anywhere."""

import subprocess
import sys
from pathlib import Path

import pytest

import custom_networks

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "custom_networks"


def test_import_from_another_directory(tmp_path: Path):
    code = "import custom_networks, custom_networks.nets, custom_networks.blocks; print(custom_networks.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", errors="replace"
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve() == Path(custom_networks.__file__).resolve()


def test_every_package_is_installed_with_the_bundles():
    """pyproject.toml lists its packages explicitly (the bundles are the package custom_networks.bundles)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    found = [
        "custom_networks" + "".join(f".{part}" for part in p.parent.relative_to(PACKAGE).parts)
        for p in sorted(PACKAGE.rglob("__init__.py"))
    ]
    assert sorted(listed) == sorted([*found, "custom_networks.bundles"])
