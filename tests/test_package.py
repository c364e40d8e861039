"""custom_networks is installed (not found through the working directory) and importable from anywhere."""

import subprocess
import sys
from pathlib import Path

import custom_networks


def test_import_from_another_directory(tmp_path: Path):
    code = "import custom_networks, custom_networks.nets, custom_networks.blocks; print(custom_networks.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", errors="replace"
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve() == Path(custom_networks.__file__).resolve()
