"""Performance benchmark of the project's networks and bundles: one table per section (``scripts/benchmark.py``).

    from custom_networks.benchmark import run_benchmark
    run_benchmark(sections="machine_limits,network_steps", networks="MILDNet", quick=True, json="out.json")

The machine comes first: torch's intra-op thread count (``torch.get_num_threads()``, set it with ``OMP_NUM_THREADS``;
subprocesses inherit the environment and so the same count), the device and the versions. Then each section (all by
default, ``sections`` to choose) runs and prints a table; ``json`` writes the machine and the rows so far (dicts, each
naming its section) to a file after every section, with each section's wall seconds and the machine's 1-minute load
average at its end (above the thread count: something else was running). Timings are wall-clock seconds
(``time.perf_counter``; on CUDA after ``torch.cuda.synchronize()``, see :mod:`.measures`): medians of ``repeats``
runs (default 3) after an untimed warm-up call, the machine limits medians of ``torch.utils.benchmark.Timer``.
``quick`` is the smoke mode for CI: small inputs, tiny networks, one repeat; its figures only show that every path
runs, they measure nothing. Numbers from a shared or busy machine are not comparable either. ``docs/performance.md``
holds a full run and what it shows.

Sections, in the order they run, each defined in its module's docstring: :mod:`.machine_limits`,
:mod:`.network_steps`, :mod:`.optimisations`, :mod:`.freed_memory`, :mod:`.data_pipeline`, :mod:`.training_epochs`,
:mod:`.sliding_window_3d`.
"""

from custom_networks.benchmark.runner import SECTIONS, run_benchmark

__all__ = ["SECTIONS", "run_benchmark"]
