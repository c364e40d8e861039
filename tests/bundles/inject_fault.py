"""``python -m monai.bundle`` with a signal inside the save of one last checkpoint, for the fault-injection tests:

    python tests/bundles/inject_fault.py FAULT EPOCH run training --config_file ... [monai.bundle arguments]

``FAULT`` is ``sigterm`` (the process sends itself SIGTERM as the save of the epoch-``EPOCH`` last checkpoint begins:
the save must complete, then the run stop) or ``sigkill`` (it writes the start of that checkpoint and is killed: the
next run must find and remove the partial file). The checkpoint is recognised by its content (the trainer's iteration
at the end of epoch ``EPOCH``), whatever the file is called.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from collections.abc import Callable
from typing import Any

import torch


def _ends_epoch(checkpoint: Any, epoch: int) -> bool:
    trainer = checkpoint.get("trainer") if isinstance(checkpoint, dict) else None
    return isinstance(trainer, dict) and trainer["iteration"] == epoch * trainer["epoch_length"]


def faulty_save(save: Callable[..., None], fault: str, epoch: int) -> Callable[..., None]:
    """``torch.save`` with ``fault`` inside the save of the last checkpoint of ``epoch``."""

    def save_with_fault(checkpoint: Any, file: Any, *args: Any, **kwargs: Any) -> None:
        if _ends_epoch(checkpoint, epoch):
            if fault == "sigkill":
                file.write(b"PK\x03\x04 the start of a checkpoint")
                file.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGTERM)
        save(checkpoint, file, *args, **kwargs)

    return save_with_fault


if __name__ == "__main__":
    torch.save = faulty_save(torch.save, sys.argv[1], int(sys.argv[2]))
    sys.argv = ["monai.bundle", *sys.argv[3:]]
    runpy.run_module("monai.bundle", run_name="__main__", alter_sys=True)
