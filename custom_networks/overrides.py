"""A warning for each command-line override of ``python -m monai.bundle run`` that no config of the bundle knows.

MONAI adds an unknown key (``--max_epoch 1``) to the config as a new item, which nothing reads: the run goes on with
the default the user meant to change. The bundles call :func:`warn_unknown_overrides` when they initialise.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from monai.bundle import ConfigParser
from monai.bundle.scripts import run as monai_run
from monai.bundle.utils import DEFAULT_EXP_MGMT_SETTINGS

from custom_networks.errors import is_bundle_command

__all__ = ["config_ids", "unknown_overrides", "warn_unknown_overrides"]

logger = logging.getLogger(__name__)


def config_ids(config: Any, prefix: str = "") -> Iterator[str]:
    """Every ID of ``config`` (``key``, ``key#sub``, ``key#0``, …), as MONAI's overrides name them."""
    items = config.items() if isinstance(config, dict) else enumerate(config) if isinstance(config, list) else ()
    for key, value in items:
        if str(key).startswith("//"):  # a comment
            continue
        name = f"{prefix}{key}"
        yield name
        yield from config_ids(value, f"{name}#")


def _option_names(argv: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(name, value) of each ``--name value`` or ``--name=value`` of ``argv``."""
    for index, token in enumerate(argv):
        if token.startswith("--") and len(token) > 2:
            name, equals, value = token[2:].partition("=")
            yield name.replace("::", "#"), value if equals else (argv[index + 1] if index + 1 < len(argv) else "")


def unknown_overrides(argv: Sequence[str]) -> dict[str, str | None]:
    """The overrides of a ``monai.bundle run`` command line ``argv`` (after ``run``) that name no ID of its configs
    (``--config_file``), an option of MONAI's ``run`` or a setting of its ``--tracking``, each with the closest known
    ID (None if nothing is close)."""
    options = dict(_option_names(argv))
    if "config_file" not in options or "args_file" in options:  # the overrides of an args file are not seen here
        return {}
    config_file = ConfigParser.load_config_files(_config_files(options["config_file"]))
    known = set(config_ids(config_file)) | set(inspect.signature(monai_run).parameters)
    tracking = DEFAULT_EXP_MGMT_SETTINGS.get(options.get("tracking", ""), {})  # what --tracking mlflow adds
    known |= set(config_ids(tracking.get("configs", {})))
    return {
        name: next(iter(difflib.get_close_matches(name, known, n=1)), None) for name in options if name not in known
    }


def _config_files(value: str) -> str | list[str]:
    """``--config_file``'s value: a file, files separated by commas, or a Python list of files, as fire reads it."""
    return ast.literal_eval(value) if value.strip().startswith("[") else value


def warn_unknown_overrides() -> None:
    """In a ``python -m monai.bundle run`` process, log a warning for each override that no config knows, naming the
    closest key; elsewhere (a server or notebook that loads the bundle) nothing."""
    if not is_bundle_command():
        return
    for name, closest in unknown_overrides(sys.argv[1:]).items():
        hint = f"; did you mean --{closest}?" if closest else ""
        logger.warning(f"--{name}: no config of the bundle has this key, so it changes nothing{hint}")
