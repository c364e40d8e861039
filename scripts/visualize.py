"""Figures of test cases from a finished comparison: predictions and saliency maps of the networks side by side.

    python scripts/visualize.py --help

The same as the installed command ``custom-networks visualize`` (its usage and logic: custom_networks/cli.py).
"""

import sys

from custom_networks.cli import run_command

if __name__ == "__main__":
    run_command("visualize", sys.argv[1:])
