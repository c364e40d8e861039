"""machine_limits on the quick sizes: one row per reference, at the documented sizes."""

import torch

from custom_networks.benchmark.machine_limits import copy_gbytes_per_s, machine_limits, matmul_gflops
from custom_networks.benchmark.settings import BenchmarkSettings


def test_quick_limits():
    run = BenchmarkSettings(torch.device("cpu"), quick=True, repeats=1)
    rows = {row["measure"]: row for row in machine_limits(run)}
    assert (
        {"matmul float32", "memory copy fp32"} <= set(rows) <= {"matmul float32", "matmul bfloat16", "memory copy fp32"}
    )
    assert {row["section"] for row in rows.values()} == {"machine_limits"}
    assert rows["matmul float32"]["size"] == 256
    assert rows["memory copy fp32"]["size"] == 4 * 2**20 // 4  # 4 MiB of fp32
    assert rows["matmul float32"]["seconds"] > 0 and rows["memory copy fp32"]["seconds"] > 0
    # measured once per process: the references network_steps divides by are the rows' figures
    assert matmul_gflops(run) == rows["matmul float32"]["gflops"] > 0
    assert copy_gbytes_per_s(run) == rows["memory copy fp32"]["gbytes_per_s"] > 0
