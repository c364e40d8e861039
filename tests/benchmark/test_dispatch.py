"""The adapter for torch's private dispatch-mode API (custom_networks/benchmark/dispatch.py) still fits the torch
installed: these tests fail with a message saying what to update when a torch upgrade moves or changes it."""

import importlib

import pytest
import torch

from custom_networks.benchmark import dispatch

ADAPTER = "custom_networks/benchmark/dispatch.py"


class _Recorder(dispatch.TorchDispatchMode):
    """Records the name and view flag of every ATen operator run under it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bool]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.calls.append((func.__name__, func.is_view))
        return func(*args, **(kwargs or {}))


def test_torch_dispatch_mode_is_where_the_adapter_imports_it():
    try:
        private = importlib.import_module("torch.utils._python_dispatch").TorchDispatchMode
    except (ImportError, AttributeError) as error:
        pytest.fail(f"torch {torch.__version__} moved TorchDispatchMode ({error}): update {ADAPTER}, its only import.")
    assert dispatch.TorchDispatchMode is private, f"{ADAPTER} no longer exports torch's TorchDispatchMode."


def test_a_mode_sees_each_aten_operator_with_its_name_and_view_flag():
    a = torch.ones(4)
    with _Recorder() as recorder:
        a.view(2, 2)
        torch.add(a, a)
    assert recorder.calls == [("view.default", True), ("add.Tensor", False)], (
        f"torch {torch.__version__} changed what a TorchDispatchMode sees (MemoryTrafficMode relies on the operators'"
        f" __name__ and is_view): got {recorder.calls}; update {ADAPTER} and custom_networks/benchmark/measures.py."
    )


def test_a_mode_sees_the_backward_pass():
    weight = torch.ones(3, requires_grad=True)
    loss = (weight * 2).sum()
    with _Recorder() as recorder:
        loss.backward()
    assert recorder.calls, f"torch {torch.__version__}: a TorchDispatchMode no longer sees autograd's operators."


def test_tensors_in_nested_arguments():
    a, b, c = torch.zeros(1), torch.zeros(2), torch.zeros(3)
    found = list(dispatch.tensors_in(((a, [b, None, 2]), {"out": c, "dim": 1})))
    assert [t.numel() for t in found] == [1, 2, 3]
