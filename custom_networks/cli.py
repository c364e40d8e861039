"""The ``custom-networks`` command, installed with the package, and the ``scripts/*.py`` of the repository.

    custom-networks <command> [ARGUMENT ...] [--option VALUE ...]
    custom-networks <command> --help

Each command's usage is written here, so that ``--help`` answers without importing torch or MONAI; the command's
work is imported only when it runs. Values are read as Python literals where they are one (``--folds 0,1`` is a
tuple, ``--compare True`` a bool), as strings otherwise. A user's mistake, an unknown option included, ends the
output with one line ``error: …`` and exit status 1 (:mod:`custom_networks.errors`).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fire.parser import DefaultParseValue

from custom_networks.errors import BadValueError, MissingFileError, errors_in_one_line

__all__ = ["COMMANDS", "Command", "call_with_arguments", "main", "run_command", "run_script", "serve_with_monailabel"]

PROGRAM = "custom-networks"


@dataclass(frozen=True)
class Command:
    """A command: the function that does its work (a function, or ``"module:function"`` to import it only when the
    command runs), one line saying what it does, and its usage.

    ``passes_argv``: the function takes the command line itself (a command with subcommands of its own, which
    answer ``<subcommand> --help`` themselves).
    """

    target: str | Callable[..., Any]
    summary: str
    usage: str
    passes_argv: bool = False

    def function(self) -> Callable[..., Any]:
        if callable(self.target):
            return self.target
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)

    def run(self, name: str, argv: Sequence[str]) -> None:
        """Run the command as ``name`` with the arguments ``argv`` (its usage for ``--help`` / ``-h``); progress is
        logged at INFO level.

        Raises:
            SystemExit: status 1 after a user's mistake, with one line ``error: …`` on stderr.
        """
        if any(token in ("--help", "-h") for token in argv) and not (self.passes_argv and len(argv) > 1):
            print(f"{self.summary}\n\nusage: {self.usage}")
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        with errors_in_one_line():
            if self.passes_argv:
                self.function()(list(argv))
            else:
                result = call_with_arguments(self.function(), argv, name)
                if result is not None:
                    print(result)


COMMANDS: dict[str, Command] = {
    "prepare": Command(
        "custom_networks.data.cli:main",
        "turn a dataset as downloaded into what the bundles read (datalist.json and converted files)",
        """\
custom-networks prepare <dataset> --src RAW_DIR --dst DATA_DIR [--seed 0] [--test_fraction 0.3] [--num_folds 5]
                        [--progress False] [--<dataset option> VALUE ...]
custom-networks prepare synthesize <dataset> --dst RAW_DIR [--count 12] [--size 64] [--seed 0]
custom-networks prepare datasets          the datasets it reads, one line each
custom-networks prepare <dataset> --help  the options of one dataset""",
        passes_argv=True,
    ),
    "cross-validate": Command(
        "custom_networks.experiments.cross_validation:cross_validate",
        "compare networks through a bundle by cross-validation and write a report",
        """\
custom-networks cross-validate --bundle NAME_OR_FOLDER --dataset_dir DATA_DIR [--networks mildnet,unet,...]
                               [--folds 0,1,2,3,4] [--epochs N] [--output_dir DIR] [--baseline unet]
                               [--ensemble True] [--protocol_configs paper_train.json] [--<bundle key> VALUE ...]

Trains each network once per validation fold with the bundle's configs and evaluates it on the test split, then
each network's fold models as one ensemble (mean of their probabilities; --ensemble False: not); the report folder
(default cross_validation/<bundle>) gets results.csv, summary.md, summary.csv, ensembles.csv, box plots and training
curves. --protocol_configs: bundle config files on top of train.json in every run (a paper's protocol). Other
--key VALUE pairs override the bundle's config in every run. Run the same command again to resume.
Networks: mildnet, unet, unet_mlr (U-Net with MILDNet's MLR skips), residualunet, resdunet, multiresunet, unetplusplus,
unet3d (Cicek et al.'s 3-D U-Net), msunet, attentionunet, rescrnet; default: the bundle's own and its paper's
baselines.""",
    ),
    "visualize": Command(
        "custom_networks.experiments.visualization:visualize",
        "figures of test cases from a finished comparison: predictions and saliency maps side by side",
        """\
custom-networks visualize --report_dir cross_validation/<bundle> [--cases a.png,b.png | --num_cases 3]
                          [--networks mildnet,unet] [--fold 0] [--class_idx 0] [--output_dir DIR]

Writes <report_dir>/figures/<case>.png (or into --output_dir): per network, the prediction over the image (true
positives green, false positives red, false negatives blue) and the decoder's gradient saliency.""",
    ),
    "postprocess": Command(
        "custom_networks.experiments.postprocessing:choose_postprocessing",
        "choose a trained bundle's post-processing on its validation split; evaluation and inference then apply it",
        """\
custom-networks postprocess --bundle_root BUNDLE_ROOT --dataset_dir DATA_DIR [--fold 0] [--bundle NAME_OR_FOLDER]
                            [--test True] [--<bundle key> VALUE ...]

Evaluates the model in BUNDLE_ROOT/models on validation fold --fold and, per class, tries keeping the largest
connected component, removing objects smaller than a size (percentiles of the true objects' areas) and filling holes,
keeping each only if it raises that class's mean validation Dice. The plan goes to
BUNDLE_ROOT/models/postprocessing.json (with every trial's Dice), which evaluate.json and inference.json apply; delete
it to switch post-processing off. --test True also evaluates the test split without and with it. Pass the --key VALUE
overrides the model was trained with (--features, --roi_size, ...).""",
    ),
    "export": Command(
        "custom_networks.export:export_bundle",
        "write a bundle in the Model Zoo's self-contained form, its code vendored, for use without this package",
        """\
custom-networks export <bundle> <out_dir> [--weights model.pt] [--weights_url URL] [--zip]

Writes <out_dir>/<bundle>/: configs/, docs/, LICENSE, the runtime part of custom_networks in scripts/custom_networks/
(the configs import it from there), metadata.json listing the public packages it needs, and with --weights
models/model.pt and large_files.yml (path, SHA-256, --weights_url). --zip also writes <bundle>_v<version>.zip. Run the
export from its folder: python -m monai.bundle run --config_file configs/train.json --dataset_dir DATA_DIR""",
    ),
    "monailabel": Command(
        "custom_networks.cli:serve_with_monailabel",
        "serve bundles to annotators with MONAI Label (its own environment, built when missing)",
        """\
custom-networks monailabel [--host HOST] [--port PORT] APP_DIR STUDIES_DIR BUNDLE [BUNDLE ...] [-- ARGS]

Runs scripts/monailabel_app.sh of the clone the package is installed from (pip install -e): builds MONAI Label's
environment when missing, exports each bundle (a name or a folder) into APP_DIR/model/ and serves STUDIES_DIR on
HOST:PORT (default 127.0.0.1:8000). See the README's "MONAI Label".""",
        passes_argv=True,
    ),
    "benchmark": Command(
        "custom_networks.benchmark:run_benchmark",
        "measure the networks' and bundles' speed and memory; prints one table per section",
        """\
custom-networks benchmark [--device cpu|cuda] [--json out.json] [--quick] [--repeats N] [--sections a,b]
                          [--compile MILDNet,MSUNet|none] [--spatial_dims 2|3|2,3] [--networks ResCRNet,...]

Sections (all by default, in this order): machine_limits, network_steps, optimisations, freed_memory,
data_pipeline, training_epochs, sliding_window_3d. --json writes the machine and the rows after every section;
--quick is the smoke mode.""",
    ),
}


def serve_with_monailabel(argv: Sequence[str]) -> None:
    """Run ``scripts/monailabel_app.sh`` of the clone this package is installed from with ``argv``.

    Raises:
        MissingFileError: the package is not installed from a clone (the script builds MONAI Label's environment from
            the clone's pins).
    """
    script = Path(__file__).resolve().parents[1] / "scripts" / "monailabel_app.sh"
    if not script.is_file():
        raise MissingFileError(
            f"{script}: not found: the monailabel command runs the script of a clone of the repository, installed "
            "with pip install -e"
        )
    os.execvp("bash", ["bash", str(script), *argv])


def _split(argv: Sequence[str]) -> tuple[list[Any], dict[str, Any]]:
    """Positional arguments and ``--name VALUE`` / ``--name=VALUE`` / ``--flag`` options of ``argv``."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    tokens = list(argv)
    while tokens:
        token = tokens.pop(0)
        if not token.startswith("--") or token == "--":
            args.append(DefaultParseValue(token))
            continue
        name, equals, value = token[2:].partition("=")
        if not equals:
            value = tokens.pop(0) if tokens and not tokens[0].startswith("--") else "True"
        kwargs[name.replace("-", "_")] = DefaultParseValue(value)
    return args, kwargs


def call_with_arguments(function: Callable[..., Any], argv: Sequence[str], name: str) -> Any:
    """Call ``function`` with the arguments of ``argv``.

    Raises:
        BadValueError: an option ``function`` does not take (naming the closest one), or arguments missing or
            too many.
    """
    args, kwargs = _split(argv)
    signature = inspect.signature(function)
    parameters = signature.parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        for option in kwargs:
            if option not in parameters:
                close = difflib.get_close_matches(option, parameters, n=1)
                hint = f"; did you mean --{close[0]}?" if close else f"; see {PROGRAM} {name} --help"
                raise BadValueError(f"--{option}: {name} has no such option{hint}")
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        raise BadValueError(f"{name}: {error}; see {PROGRAM} {name} --help") from None
    return function(*bound.args, **bound.kwargs)


def _overview() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROGRAM} <command> [--help] [ARGUMENTS]", "", "commands:"]
    lines += [f"  {name:<{width}}  {command.summary}" for name, command in COMMANDS.items()]
    return "\n".join(lines)


def run_command(name: str, argv: Sequence[str]) -> None:
    """Run the command ``name`` of :data:`COMMANDS` with the arguments ``argv`` (see :meth:`Command.run`)."""
    COMMANDS[name].run(name, argv)


def run_script(function: Callable[..., Any], doc: str) -> None:
    """Run ``function`` with the command line of the script ``sys.argv[0]``, whose docstring ``doc`` is its help (the
    first line says what it does, the rest is its usage), as :meth:`Command.run` runs a command."""
    plain = re.sub(r":\w+:`~?([^`]+)`", r"\1", inspect.cleandoc(doc)).replace("``", "`")  # no Sphinx roles
    summary, _, usage = plain.partition("\n")
    Command(function, summary, usage.strip()).run(Path(sys.argv[0]).name, sys.argv[1:])


def main(argv: Sequence[str] | None = None) -> None:
    """``custom-networks <command> …``: list the commands, or run one.

    Raises:
        SystemExit: status 1 for an unknown command or a user's mistake, with one line ``error: …`` on stderr.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("--help", "-h"):
        print(_overview())
        return
    name, *rest = argv
    if name not in COMMANDS:
        with errors_in_one_line():
            close = difflib.get_close_matches(name, COMMANDS, n=1)
            hint = f"did you mean {close[0]}?" if close else f"commands: {', '.join(COMMANDS)}"
            raise BadValueError(f"{name}: no such command of {PROGRAM}; {hint}")
    run_command(name, rest)
