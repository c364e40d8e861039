"""One run of a comparison: a network trained through a bundle with one validation fold, then evaluated on the test
split, in its own folder (the run's ``bundle_root``), resumable after an interruption."""

from __future__ import annotations

import csv
import json
import logging
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monai.bundle import ConfigParser

from custom_networks.handlers import latest_checkpoint
from custom_networks.handlers.ensemble import RUN_SETTINGS

__all__ = ["ENSEMBLE_FOLD", "Run", "RunError"]

logger = logging.getLogger(__name__)

SETTINGS_FILE = RUN_SETTINGS
ENSEMBLE_FOLD = -1  # the fold of a run that evaluates the fold models of a network as one ensemble
TIMINGS_FILE = "timings.json"
EVAL_DIR = "eval"
PARTIAL_EVAL_DIR = "eval.partial"
LOG_LINES = 20
EXCEPTION = re.compile(r"[\w.]*(Error|Exception|Interrupt): ")  # "ValueError: …" lines of a traceback


class RunError(RuntimeError):
    """A training or evaluation subprocess failed; the message names the run and its log file and quotes the
    exceptions of the log's tracebacks and its last lines."""


@dataclass(frozen=True)
class Run:
    """Network ``network`` trained on the training folds but ``fold`` (the bundle's validation fold) and evaluated on
    the test split, through ``python -m monai.bundle run`` with the bundle's own configs and ``overrides``.

    Folder ``root`` is the run's ``bundle_root``: ``models/``, ``logs/`` (TensorBoard), ``eval/`` (the per-case CSVs
    and overlays of ``evaluate.json``; it appears, by a rename, only once the evaluation has finished), ``run.json``
    (these settings), ``timings.json`` (wall seconds of training and evaluation, summed over attempts) and
    ``train.log`` / ``evaluate.log`` (the subprocesses' output, appended per attempt).

    Args:
        bundle_dir: the bundle folder (``configs/train.json``, ``configs/evaluate.json``).
        dataset_dir: the prepared dataset (``datalist.json``).
        network: short name of the network (see :data:`~custom_networks.nets.registry.NETWORKS`).
        fold: the validation fold.
        root: the run's folder.
        overrides: config overrides of every command: ``fold``, ``network_def`` unless the network is the bundle's
            own, and whatever the user passes on (``max_epochs``, ``features``, ``num_workers``, …); JSON values.
        protocol_configs: the bundle's config files applied on top of ``train.json`` in training and evaluation
            (e.g. ``paper_train.json``), in the order MONAI merges them.
        evaluate_configs: the bundle's config files the evaluation applies on top of those, in order.
    """

    bundle_dir: Path
    dataset_dir: Path
    network: str
    fold: int
    root: Path
    overrides: dict[str, Any]
    protocol_configs: tuple[str, ...] = ()
    evaluate_configs: tuple[str, ...] = ("evaluate.json",)

    @property
    def name(self) -> str:
        return f"{self.network} " + ("ensemble" if self.fold == ENSEMBLE_FOLD else f"fold {self.fold}")

    @property
    def eval_dir(self) -> Path:
        return self.root / EVAL_DIR

    @property
    def evaluated(self) -> bool:
        return self.eval_dir.is_dir()

    def settings(self) -> dict[str, Any]:
        """What ``run.json`` holds (``protocol_configs`` only when there are any, as before they existed)."""
        protocol = {"protocol_configs": list(self.protocol_configs)} if self.protocol_configs else {}
        return {
            "bundle_dir": str(self.bundle_dir),
            "dataset_dir": str(self.dataset_dir),
            "network": self.network,
            "fold": self.fold,
            "overrides": self.overrides,
            **protocol,
        }

    @classmethod
    def load(cls, root: str | Path) -> Run:
        """The run whose folder is ``root`` (from its ``run.json``)."""
        settings = json.loads((Path(root) / SETTINGS_FILE).read_text(encoding="utf-8"))
        return cls(
            bundle_dir=Path(settings["bundle_dir"]),
            dataset_dir=Path(settings["dataset_dir"]),
            network=settings["network"],
            fold=settings["fold"],
            root=Path(root),
            overrides=settings["overrides"],
            protocol_configs=tuple(settings.get("protocol_configs", ())),
        )

    def config_files(self, evaluate: bool) -> list[str]:
        names = ["train.json", *self.protocol_configs, *(self.evaluate_configs if evaluate else ())]
        return [str(self.bundle_dir / "configs" / name) for name in names]

    def command(
        self, evaluate: bool, resume: bool = False, dataset_dir: Path | None = None, output_dir: Path | None = None
    ) -> list[str]:
        """``python -m monai.bundle run`` of the training (``resume``: with ``--resume True``; else with
        ``--start_over True``, which sets aside what an interrupted attempt saved before its first last checkpoint)
        or of the evaluation of the test split of ``dataset_dir`` (default: the run's), which writes into
        ``output_dir`` (default: ``eval.partial/``)."""
        command = [sys.executable, "-m", "monai.bundle", "run", *([] if evaluate else ["training"])]
        command += ["--config_file", repr(self.config_files(evaluate))]
        command += ["--bundle_root", str(self.root), "--dataset_dir", str(dataset_dir or self.dataset_dir)]
        overrides = dict(self.overrides)
        if evaluate:
            overrides["output_dir"] = str(output_dir or self.root / PARTIAL_EVAL_DIR)
        else:
            overrides["resume" if resume else "start_over"] = True
        return command + [f"--{key}={value!r}" for key, value in overrides.items()]

    def parser(self) -> ConfigParser:
        """The bundle's ``train.json`` with this run's settings, for use in this process."""
        parser = ConfigParser()
        parser.read_config(self.config_files(evaluate=False))
        parser.update({"bundle_root": str(self.root), "dataset_dir": str(self.dataset_dir), **self.overrides})
        return parser

    def check_settings(self) -> None:
        """Raises ValueError if the folder holds a run made with other settings (``run.json``)."""
        settings_file = self.root / SETTINGS_FILE
        if settings_file.is_file():
            before = json.loads(settings_file.read_text(encoding="utf-8"))
            if before != self.settings():
                raise ValueError(
                    f"{self.root} holds a run made with other settings ({before}, now {self.settings()}); "
                    "choose another output folder or delete that one."
                )

    def execute(self) -> None:
        """Bring the run to its end: nothing if it was evaluated before; else train (continuing from the last
        checkpoint with ``--resume True`` if there is one, from scratch otherwise) and evaluate.

        Raises:
            ValueError: the folder holds a run made with other settings.
            RunError: a subprocess failed.
        """
        if self._start():
            resume = latest_checkpoint(self.root / "models") is not None
            logger.info(f"{self.name}: {'resuming training' if resume else 'training'}")
            self._call(self.command(evaluate=False, resume=resume), "training", "train.log")
            self._evaluate()

    def evaluate(self) -> None:
        """Only evaluate (what is trained already, e.g. the members of an ensemble): nothing if evaluated before.

        Raises:
            ValueError: the folder holds a run made with other settings.
            RunError: the evaluation failed.
        """
        if self._start():
            self._evaluate()

    def _start(self) -> bool:
        """Check and record the settings; False if the run was evaluated before (nothing left to do)."""
        self.check_settings()
        if self.evaluated:
            logger.info(f"{self.name}: evaluated before, skipped")
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / SETTINGS_FILE).write_text(json.dumps(self.settings(), indent=2) + "\n", encoding="utf-8")
        return True

    def _evaluate(self) -> None:
        logger.info(f"{self.name}: evaluating")
        partial = self.root / PARTIAL_EVAL_DIR
        shutil.rmtree(partial, ignore_errors=True)
        self._call(self.command(evaluate=True), "evaluation", "evaluate.log")
        partial.rename(self.eval_dir)

    def evaluate_on(self, dataset_dir: Path, output_dir: Path) -> Path:
        """Evaluate the run's trained model on the test split of another dataset into ``output_dir`` (returned), once:
        an existing ``output_dir`` is kept.

        Raises:
            RunError: the evaluation failed.
        """
        if not output_dir.is_dir():
            partial = output_dir.with_name(output_dir.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            command = self.command(evaluate=True, dataset_dir=dataset_dir, output_dir=partial)
            self._call(command, f"evaluation on {dataset_dir}", f"evaluate_{output_dir.name}.log")
            partial.rename(output_dir)
        return output_dir

    def timings(self) -> dict[str, float]:
        """Wall seconds of each stage, named as its log (``train``, ``evaluate``, ``evaluate_<folder>``), summed over
        attempts."""
        path = self.root / TIMINGS_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def _call(self, command: list[str], stage: str, log_name: str) -> None:
        log_file = self.root / log_name
        start = time.perf_counter()
        with open(log_file, "a", encoding="utf-8") as log:
            log.write(f"$ {shlex.join(command)}\n")
            log.flush()
            code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
        timings, key = self.timings(), Path(log_name).stem
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - start
        (self.root / TIMINGS_FILE).write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
        if code != 0:
            lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
            errors = list(dict.fromkeys(line for line in lines if EXCEPTION.match(line)))  # chained ones too
            raise RunError(
                f"{stage} of {self.name} failed (exit status {code}); log: {log_file}\nexceptions:\n"
                + "\n".join(errors)
                + "\nlast lines:\n"
                + "\n".join(lines[-LOG_LINES:])
            )

    def results(self) -> list[dict[str, Any]]:
        """The per-case metrics of the evaluation: one dict per test case, in evaluation order, with ``network``,
        ``fold``, ``case`` (image file name) and every metric of ``eval/metrics.csv`` without its ``test_`` prefix
        (the ``mean`` column of ``eval/<metric>_raw.csv``: the mean over classes; NaN where undefined)."""
        with open(self.eval_dir / "metrics.csv", encoding="utf-8") as f:
            metrics = [row[0] for row in csv.reader(f) if row]
        rows: dict[str, dict[str, Any]] = {}
        for metric in metrics:
            with open(self.eval_dir / f"{metric}_raw.csv", encoding="utf-8") as f:
                for item in csv.DictReader(f):
                    case = Path(item["filename"]).name
                    row = rows.setdefault(case, {"network": self.network, "fold": self.fold, "case": case})
                    row[metric.removeprefix("test_")] = float(item["mean"])
        return list(rows.values())
