"""Seeded, group-aware train/test split and cross-validation folds.

Items that share a group (a patient, a case) always land together: in the test set or in one fold.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import natural_key

__all__ = ["TEST", "assign_splits", "check_block", "check_split_options"]

#: Split value of a held-out (testing) item; training items get their fold index 0 … num_folds-1.
TEST = -1


def check_block(block: int) -> int:
    """``block``, the number of consecutive numbered cases (sections, video frames) that share a split group.

    Raises:
        DataPreparationError: not an integer >= 1.
    """
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise DataPreparationError(f"--block must be an integer >= 1, got {block!r}")
    return block


def check_split_options(seed: int, test_fraction: float, num_folds: int) -> None:
    """Fail early on split options that cannot work."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise DataPreparationError(f"--seed must be an integer, got {seed!r}")
    if isinstance(num_folds, bool) or not isinstance(num_folds, int) or num_folds < 1:
        raise DataPreparationError(f"--num_folds must be an integer >= 1, got {num_folds!r}")
    if not isinstance(test_fraction, int | float) or not 0.0 <= test_fraction < 1.0:
        raise DataPreparationError(f"--test_fraction must be a number in [0, 1), got {test_fraction!r}")


def _pick_test_groups(order: list[str], sizes: Counter, test_fraction: float) -> set[str]:
    """Groups, taken in the shuffled ``order``, whose items come closest to ``test_fraction`` of all items."""
    if test_fraction <= 0:
        return set()
    target = math.floor(test_fraction * sum(sizes.values()) + 0.5)
    chosen: set[str] = set()
    count = 0
    for group in order:
        if count >= target:
            break
        if count + sizes[group] - target <= target - count:  # taking it brings the count closer (or as close)
            chosen.add(group)
            count += sizes[group]
    return chosen or {order[0]}


def assign_splits(groups: Sequence[str], *, seed: int, test_fraction: float, num_folds: int) -> list[int]:
    """Assign every item a fold (0 … num_folds-1) or :data:`TEST`, whole groups at a time.

    Groups are shuffled with ``numpy.random.default_rng(seed)`` (from their sorted order, so the file system's
    listing order does not matter); the first groups make up the test set (closest to ``test_fraction`` of the
    items, at least one group when the fraction is positive); the remaining groups go, largest first, to the fold
    with the fewest items so far, which gives folds of (nearly) equal size.

    Args:
        groups: the group of each item (an item's own name when it has no group).
        seed: random seed; the same seed gives the same split.
        test_fraction: fraction of items held out for testing.
        num_folds: number of cross-validation folds of the training part.
    """
    check_split_options(seed, test_fraction, num_folds)
    sizes = Counter(groups)
    names = sorted(sizes, key=natural_key)
    rng = np.random.default_rng(seed)
    order = [names[i] for i in rng.permutation(len(names))]
    test = _pick_test_groups(order, sizes, test_fraction)
    train = [g for g in order if g not in test]
    if len(train) < num_folds:
        raise DataPreparationError(
            f"{len(names)} case/patient group(s) are too few: {len(test)} held out for testing leave {len(train)} "
            f"for {num_folds} folds (lower --num_folds or --test_fraction, or add data)"
        )
    fold_of: dict[str, int] = dict.fromkeys(test, TEST)
    load = [0] * num_folds
    for group in sorted(train, key=lambda g: -sizes[g]):  # stable: equal sizes keep the shuffled order
        fold = min(range(num_folds), key=lambda k: (load[k], k))
        fold_of[group] = fold
        load[fold] += sizes[group]
    return [fold_of[g] for g in groups]
