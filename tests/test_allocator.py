"""reuse_freed_memory: a large block freed and allocated again costs no new page faults while it is on (and as many as
it has pages when it is switched off); restore_default_allocation hands the kept pages back, so the next block is
faulted in anew. In a fresh interpreter: the setting is process-wide."""

import json
import sys

import pytest

from custom_networks.allocator import reuse_freed_memory
from custom_networks.errors import BadValueError
from tests.subprocesses import BLOCK_PAGES, SECOND_BLOCK_FAULTS, run_script

# MONAI and Ignite loaded first, as in every process that runs a bundle: with torch alone (no other import), glibc on
# this machine still handed the freed block back to the kernel after reuse_freed_memory() (16,384 faults of 16,384)
PAGE_FAULTS = (
    "import monai, ignite\n"
    + SECOND_BLOCK_FAULTS
    + """
import json
from custom_networks.allocator import restore_default_allocation, reuse_freed_memory

switched_off = reuse_freed_memory(False)
default = faults_of_second_block()
applied = reuse_freed_memory()
kept = faults_of_second_block()
restored = restore_default_allocation()
after_restore = faults_of_block()
bounded = reuse_freed_memory(largest_block_mib=32)
large_when_bounded = faults_of_second_block()
small_when_bounded = faults_of_second_block(mib=16)
print(json.dumps(dict(switched_off=switched_off, default=default, applied=applied, kept=kept, restored=restored,
                      after_restore=after_restore, bounded=bounded, large_when_bounded=large_when_bounded,
                      small_when_bounded=small_when_bounded)))
"""
)


@pytest.fixture(scope="module")
def faults() -> dict:
    return json.loads(run_script("-c", PAGE_FAULTS).stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and Linux's page-fault counts")
def test_freed_block_is_reused_without_page_faults(faults):
    assert faults["switched_off"] is False  # reuse_freed_memory(False) leaves glibc as it is
    assert faults["applied"] is True
    assert faults["default"] > 0.9 * BLOCK_PAGES  # glibc unmapped the block; the kernel faults every page in anew
    assert faults["kept"] < 0.05 * BLOCK_PAGES


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and Linux's page-fault counts")
def test_restoring_hands_memory_back(faults):
    assert faults["restored"] is True
    assert faults["after_restore"] > 0.9 * BLOCK_PAGES


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and Linux's page-fault counts")
def test_bounded_reuse_keeps_only_blocks_up_to_the_limit(faults):
    assert faults["bounded"] is True
    assert faults["large_when_bounded"] > 0.9 * BLOCK_PAGES  # 64 MiB: above the 32 MiB kept, mapped afresh
    assert faults["small_when_bounded"] < 0.05 * BLOCK_PAGES / 4  # 16 MiB: kept


@pytest.mark.parametrize("largest_block_mib", [0, 33])
def test_a_limit_glibc_cannot_set_is_refused_in_one_line(largest_block_mib):
    with pytest.raises(BadValueError, match="reuse_largest_block_mib must be above 0 and at most 32"):
        reuse_freed_memory(largest_block_mib=largest_block_mib)
