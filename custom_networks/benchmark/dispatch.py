"""The one place that imports torch's private dispatch-mode API: for ``MemoryTrafficMode`` (:mod:`.measures`) and the
tests that count what ATen operators do.

A ``TorchDispatchMode`` sees every ATen operator after autograd (the backward pass's too), as
``torch.utils.flop_counter.FlopCounterMode`` does, which no public torch API offers: torch 2.13 exports the class only
from the private ``torch.utils._python_dispatch``, and has no public ``torch.utils.pytree`` either, so the tensors of
an operator's arguments and results are collected here by :func:`tensors_in`. ``tests/benchmark/test_dispatch.py``
fails with a message naming this module when a torch upgrade moves or changes the class.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["TorchDispatchMode", "tensors_in"]


def tensors_in(tree: Any) -> Iterator[torch.Tensor]:
    """The tensors in ``tree``: an operator's arguments or results, nested in tuples, lists and dicts."""
    if isinstance(tree, torch.Tensor):
        yield tree
    elif isinstance(tree, tuple | list):
        for item in tree:
            yield from tensors_in(item)
    elif isinstance(tree, dict):
        for item in tree.values():
            yield from tensors_in(item)
