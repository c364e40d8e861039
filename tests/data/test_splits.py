"""Seeded, group-aware split: whole groups, balanced folds, reproducible, seed-dependent."""

from __future__ import annotations

from collections import Counter

import pytest

from custom_networks.data import DataPreparationError
from custom_networks.data.splits import TEST, assign_splits


def test_singletons_split_70_30_into_equal_folds():
    groups = [f"case{i}" for i in range(100)]
    folds = assign_splits(groups, seed=0, test_fraction=0.3, num_folds=5)
    counts = Counter(folds)
    assert counts[TEST] == 30
    assert [counts[k] for k in range(5)] == [14] * 5


def test_groups_stay_whole_and_folds_stay_balanced():
    sizes = [20, 35, 88, 22, 41, 56, 23, 30, 61, 27, 44, 38, 25, 70, 33]
    groups = [f"patient{p}" for p, n in enumerate(sizes) for _ in range(n)]
    folds = assign_splits(groups, seed=3, test_fraction=0.3, num_folds=5)
    fold_of = {}
    for group, fold in zip(groups, folds, strict=True):
        assert fold_of.setdefault(group, fold) == fold
    counts = Counter(folds)
    assert abs(counts[TEST] - 0.3 * len(groups)) <= max(sizes) / 2
    train = [counts[k] for k in range(5)]
    assert max(train) - min(train) <= max(sizes)


def test_same_seed_same_split_other_seed_other_split():
    groups = [f"c{i}" for i in range(40)]
    first = assign_splits(groups, seed=1, test_fraction=0.3, num_folds=5)
    assert first == assign_splits(list(groups), seed=1, test_fraction=0.3, num_folds=5)
    assert first != assign_splits(groups, seed=2, test_fraction=0.3, num_folds=5)


def test_order_of_items_does_not_matter():
    groups = [f"c{i}" for i in range(30)]
    forward = dict(zip(groups, assign_splits(groups, seed=0, test_fraction=0.3, num_folds=5), strict=True))
    backward = list(reversed(groups))
    assert forward == dict(zip(backward, assign_splits(backward, seed=0, test_fraction=0.3, num_folds=5), strict=True))


def test_no_test_set_and_other_fold_counts():
    folds = assign_splits([str(i) for i in range(9)], seed=0, test_fraction=0.0, num_folds=3)
    assert Counter(folds) == {0: 3, 1: 3, 2: 3}


@pytest.mark.parametrize(
    ("groups", "kwargs", "message"),
    [
        (["a", "b", "c", "d", "e"], {}, "too few"),
        (["a"] * 10, {}, "too few"),
        (["a", "b"], {"test_fraction": 1.0}, "--test_fraction"),
        (["a", "b"], {"num_folds": 0}, "--num_folds"),
        (["a", "b"], {"seed": "x"}, "--seed"),
    ],
)
def test_impossible_splits_are_errors(groups, kwargs, message):
    options = {"seed": 0, "test_fraction": 0.3, "num_folds": 5, **kwargs}
    with pytest.raises(DataPreparationError, match=message):
        assign_splits(groups, **options)
