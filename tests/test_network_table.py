"""scripts/network_table.py builds every network in its paper configuration and reports the papers' counts."""

import pytest

from tests.subprocesses import run_script

# (network, configuration cell) -> counts the papers state (trainable and/or Keras total)
PAPER_COUNTS = {
    ("MultiResUNet", "2-D, 3 → 1"): ("7,238,228", "7,262,750"),
    ("MultiResUNet", "3-D, 4 → 1"): ("18,657,689",),
    ("MSUNet", "2-D, 3 → 2"): ("19,938,368",),
    ("ResCRNet", "2-D, 3 → 4"): ("59,165",),
    ("UNet", "2-D, 1 → 1"): ("7,759,521",),
    ("CicekUNet", "3-D, 4 → 1"): ("19,078,593",),
}


@pytest.mark.slow
def test_table_has_paper_parameter_counts(tmp_path):
    markdown = tmp_path / "table.md"
    result = run_script("scripts/network_table.py", "--markdown_file", markdown, timeout=120)
    text = markdown.read_text(encoding="utf-8")
    assert text == result.stdout
    lines = text.splitlines()
    assert lines[0].startswith("| Network |") and len(lines) == 2 + 12
    rows = {
        (cells[0], cells[4]): cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)
    }
    for key, counts in PAPER_COUNTS.items():
        assert key in rows, f"no row {key} in:\n{text}"
        assert all(count in rows[key][6:] for count in counts), f"{key}: {rows[key]} lacks {counts}"
    assert rows["MSUNet", "2-D, 3 → 2"][5] == "128" and rows["ResCRNet", "2-D, 3 → 4"][5] == "1"
