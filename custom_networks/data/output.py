"""All-or-nothing output: build in a temporary folder beside the destination, then move it into place."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from custom_networks.data.errors import DataPreparationError

__all__ = ["check_destination", "staged_output"]


def check_destination(dst: Path, marker: str, src: Path | None = None) -> Path:
    """Resolve ``dst`` and refuse one that must not be replaced.

    A destination may be replaced when it does not exist, is empty, or holds ``marker`` (the output of an earlier
    run); any other existing folder is left alone. It may not lie inside ``src`` or contain it.
    """
    dst = dst.expanduser().resolve()
    if src is not None:
        src = src.expanduser().resolve()
        if dst == src or src in dst.parents or dst in src.parents:
            raise DataPreparationError(f"destination and source overlap ({src})", dst)
    if dst.exists():
        if not dst.is_dir():
            raise DataPreparationError("destination exists and is not a folder", dst)
        if any(dst.iterdir()) and not (dst / marker).exists():
            raise DataPreparationError(
                f"destination is a non-empty folder without {marker}, not the output of an earlier run; "
                "choose another --dst or empty it",
                dst,
            )
    return dst


@contextmanager
def staged_output(dst: Path, marker: str) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``dst``; on success it replaces ``dst``, on any error it is removed
    and ``dst`` stays as it was.

    The final step is two renames on the same file system (old ``dst`` aside, new folder in), so ``dst`` is never
    seen half-written; the old folder is deleted only after the new one is in place.
    """
    dst = check_destination(dst, marker)
    dst.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dst.name}.tmp-", dir=dst.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result should look like any new folder
    try:
        yield staging
        if not (staging / marker).exists():
            raise RuntimeError(f"staged output lacks {marker}")  # a bug, not bad input
        old = dst.with_name(f".{dst.name}.old-{uuid.uuid4().hex[:8]}") if dst.exists() else None
        if old is not None:
            os.replace(dst, old)
        try:
            os.replace(staging, dst)
        except BaseException:
            if old is not None:
                os.replace(old, dst)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
