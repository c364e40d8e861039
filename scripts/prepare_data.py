"""Turn a dataset as downloaded into what the bundles read (DATA_DIR/datalist.json + converted files).

    python scripts/prepare_data.py --help

The same as the installed command ``custom-networks prepare`` (its usage and logic: custom_networks/cli.py).
"""

import sys

from custom_networks.cli import run_command

if __name__ == "__main__":
    run_command("prepare", sys.argv[1:])
