"""Write a bundle in the Model Zoo's self-contained form, with its code vendored, for use without this package.

    python scripts/export_bundle.py --help

The same as the installed command ``custom-networks export`` (its usage: custom_networks/cli.py; its logic:
custom_networks/export.py).
"""

import sys

from custom_networks.cli import run_command

if __name__ == "__main__":
    run_command("export", sys.argv[1:])
