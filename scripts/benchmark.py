"""Performance benchmark of the project's networks and bundles; prints one table per section.

    python scripts/benchmark.py --help

The same as the installed command ``custom-networks benchmark`` (its usage and logic: custom_networks/cli.py).

``docs/performance.md`` holds a full run and what it shows.
"""

import sys

from custom_networks.cli import run_command

if __name__ == "__main__":
    run_command("benchmark", sys.argv[1:])
