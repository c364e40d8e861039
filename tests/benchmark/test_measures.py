"""The benchmark's measures against hand counts: bytes moved, peak memory, seconds."""

import time

import pytest
import torch

from custom_networks.benchmark.measures import MemoryTrafficMode, PeakMemory, autorange_seconds, median_seconds

CPU = torch.device("cpu")


def test_traffic_of_an_addition_is_two_reads_and_one_write():
    a, b = torch.ones(1000), torch.ones(1000)
    with MemoryTrafficMode() as traffic:
        torch.add(a, b)
    assert traffic.bytes == 3 * 1000 * 4


def test_in_place_tensors_count_as_read_and_written_views_and_allocations_are_free():
    a, b = torch.ones(1000), torch.ones(1000)
    with MemoryTrafficMode() as traffic:
        a.add_(b)  # reads a and b, writes a
        a.view(10, 100)
        torch.empty(1000)
    assert traffic.bytes == 3 * 1000 * 4


def test_traffic_of_a_convolution_reads_input_weights_bias_and_writes_output():
    conv = torch.nn.Conv2d(3, 5, 3, padding=1)
    x = torch.rand(2, 3, 8, 8)
    with torch.no_grad(), MemoryTrafficMode() as traffic:
        conv(x)
    assert traffic.bytes == 4 * (2 * 3 * 8 * 8 + 5 * 3 * 3 * 3 + 5 + 2 * 5 * 8 * 8)


def test_peak_memory_of_an_allocation_is_at_least_its_size():
    with PeakMemory(CPU) as peak:
        block = torch.ones(16 * 2**20)  # 64 MiB, written
    del block
    if peak.mib is None:
        pytest.skip("no peak resident memory on this platform")
    assert 64 <= peak.mib < 64 + 256


def test_median_seconds_times_each_of_exactly_the_repeats():
    calls = []

    def nap() -> None:
        calls.append(1)
        time.sleep(0.05 * len(calls))  # 0.05, 0.1, 0.15 s: the median is the second

    seconds = median_seconds(nap, CPU, 3)
    assert len(calls) == 3
    assert 0.1 <= seconds < 0.15


def test_autorange_seconds_is_the_time_of_one_call():
    assert 0.01 <= autorange_seconds(lambda: time.sleep(0.01), CPU, min_run_time=0.1) < 0.05
