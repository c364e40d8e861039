"""Performance benchmark of the project's networks and bundles; prints one table per section.

    python scripts/benchmark.py [--device cpu|cuda] [--json out.json] [--quick] [--repeats N]
                                [--sections a,b] [--compile MILDNet,MSUNet|none] [--spatial_dims 2|3|2,3]
                                [--networks ResCRNet,MultiResUNet]

Sections (all by default, in this order): machine_limits, network_steps, optimisations, data_pipeline,
sliding_window_3d. ``--json`` writes the machine and the rows to a file after every section; ``--quick`` is the smoke
mode for CI. ``docs/performance.md`` holds a full run and what it shows.

The logic lives in custom_networks.benchmark: custom_networks/benchmark/__init__.py describes a run, and each
section's module (custom_networks/benchmark/<section>.py) what it measures.
"""

import fire

from custom_networks.benchmark import run_benchmark

if __name__ == "__main__":
    fire.Fire(run_benchmark)
