"""Compare networks through a bundle by cross-validation, as the MILDNet paper does, and write a report.

    python scripts/cross_validate.py --help

The same as the installed command ``custom-networks cross-validate`` (its usage and logic: custom_networks/cli.py).
"""

import sys

from custom_networks.cli import run_command

if __name__ == "__main__":
    run_command("cross-validate", sys.argv[1:])
