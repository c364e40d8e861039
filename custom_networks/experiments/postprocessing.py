"""Post-processing chosen on the validation split, as nnU-Net does: per class, keep the largest connected component,
then remove objects smaller than a size, then fill holes, each kept only if it raises that class's mean validation
Dice. The plan goes to ``models/postprocessing.json``, which the bundle's evaluation and inference apply
(:class:`~custom_networks.transforms.PostprocessMasksd`); without it they apply nothing.

    python scripts/choose_postprocessing.py --bundle_root BUNDLE_ROOT --dataset_dir DATA_DIR [--fold 0]
                                            [--bundle NAME_OR_FOLDER] [--test True] [--<bundle key> VALUE ...]
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Events
from monai.bundle import ConfigWorkflow, run
from monai.metrics import compute_dice
from skimage.measure import label as connected_components

from custom_networks.errors import BadValueError
from custom_networks.transforms.postprocessing import POSTPROCESSING_FILE, PostprocessMasks
from custom_networks.zoo import find_bundle

__all__ = ["choose_postprocessing", "class_dice", "greedy_plan", "validation_predictions"]

logger = logging.getLogger(__name__)

SIZE_PERCENTILES = (5, 10, 25)  # candidate minimum object sizes: these percentiles of the true objects' areas


def _label_map(mask: torch.Tensor) -> torch.Tensor:
    """A prediction or label as the evaluation hands it (1 channel 0/1, or one-hot) → label map (spatial…)."""
    mask = mask.as_subclass(torch.Tensor).detach().cpu()
    if mask.shape[0] == 1:
        return mask[0].round().to(torch.int64)
    if not torch.all(mask.sum(0) == 1):
        raise BadValueError(
            "post-processing is chosen for class masks (one class per pixel); this bundle's channels overlap "
            "(regions, as the BraTS bundles'), which it does not handle."
        )
    return mask.argmax(0)


def validation_predictions(
    bundle_dir: Path, bundle_root: Path, dataset_dir: Path, fold: int, overrides: dict[str, Any]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(prediction, label) label maps of every case of validation fold ``fold``, from the bundle's own evaluation
    (``train.json`` + ``evaluate.json``, its trained ``models/model.pt``) with no post-processing."""
    collected: list[tuple[torch.Tensor, torch.Tensor]] = []
    configs = [str(bundle_dir / "configs" / name) for name in ("train.json", "evaluate.json")]
    with tempfile.TemporaryDirectory() as scratch:
        workflow = ConfigWorkflow(
            config_file=configs,
            workflow_type=None,
            **{
                **overrides,
                "bundle_root": str(bundle_root),
                "dataset_dir": str(dataset_dir),
                "fold": fold,
                "output_dir": scratch,
                "progress": False,
                "chosen_postprocessing": [],
                "validate#dataset#data": "$custom_networks.data.datalist_split(@dataset_dir, 'validation', @fold)",
            },
        )
        workflow.initialize()
        evaluator = workflow.parser.get_parsed_content("validate#evaluator")

        @evaluator.on(Events.ITERATION_COMPLETED)
        def collect(engine) -> None:
            collected.extend((_label_map(item["pred"]), _label_map(item["label"])) for item in engine.state.output)

        workflow.run()
        workflow.finalize()
    return collected


def class_dice(cases: Sequence[tuple[torch.Tensor, torch.Tensor]], label: int) -> float:
    """Mean Dice of class ``label`` over the cases where it is defined (the class in the ground truth), NaN if none."""
    scores = [
        compute_dice((pred == label)[None, None].float(), (truth == label)[None, None].float(), ignore_empty=True)
        for pred, truth in cases
    ]
    values = torch.cat(scores).flatten()
    return float(values.nanmean()) if not torch.isnan(values).all() else math.nan


def _object_sizes(cases: Sequence[tuple[torch.Tensor, torch.Tensor]], label: int) -> list[int]:
    """Candidate ``min_size`` values: percentiles of the areas (voxel counts) of the true objects of ``label``."""
    areas = np.concatenate(
        [np.bincount(connected_components((truth == label).numpy()).ravel())[1:] for _, truth in cases]
    )
    areas = areas[areas > 0]
    if areas.size == 0:
        return []
    return sorted({int(v) for v in np.percentile(areas, SIZE_PERCENTILES) if v >= 2})


def _apply_plan(cases, steps) -> list[tuple[torch.Tensor, torch.Tensor]]:
    transform = PostprocessMasks(steps)
    return [(transform(pred[None])[0], truth) for pred, truth in cases]


def greedy_plan(
    cases: Sequence[tuple[torch.Tensor, torch.Tensor]], labels: Sequence[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The plan and every trial: per class, each step in turn (the best ``min_size`` of the candidates) is kept only
    when it raises the class's mean validation Dice over the plan so far."""
    steps: list[dict[str, Any]] = []
    trials: list[dict[str, Any]] = []
    processed = list(cases)  # the cases with the plan so far applied: each trial adds one step to them
    for label in labels:
        current = class_dice(processed, label)
        candidates = [[{"step": "keep_largest_component", "label": label}]]
        candidates.append(
            [{"step": "remove_small_objects", "label": label, "min_size": s} for s in _object_sizes(cases, label)]
        )
        candidates.append([{"step": "fill_holes", "label": label}])
        for options in candidates:
            trials_of = {id(option): _apply_plan(processed, [option]) for option in options}
            scored = [(class_dice(trials_of[id(option)], label), option) for option in options]
            for dice, option in scored:
                trials.append({**option, "dice": dice, "before": current})
            best = max(scored, key=lambda pair: -math.inf if math.isnan(pair[0]) else pair[0], default=None)
            if best is not None and not math.isnan(best[0]) and (math.isnan(current) or best[0] > current):
                steps.append(best[1])
                processed = trials_of[id(best[1])]
                current = best[0]
    return steps, trials


def _test_dice(bundle_dir: Path, bundle_root: Path, dataset_dir: Path, output_dir: Path, overrides: dict) -> float:
    """The bundle's test-split mean Dice (``metrics.csv`` of its evaluation) with the plan in ``models/`` if any."""
    configs = [str(bundle_dir / "configs" / name) for name in ("train.json", "evaluate.json")]
    run(
        config_file=configs,
        bundle_root=str(bundle_root),
        dataset_dir=str(dataset_dir),
        output_dir=str(output_dir),
        progress=False,
        **overrides,
    )
    rows = dict(line.split(",") for line in (output_dir / "metrics.csv").read_text().splitlines() if "," in line)
    return float(rows["test_mean_dice"])


def choose_postprocessing(
    bundle_root: str | Path,
    dataset_dir: str | Path,
    fold: int = 0,
    bundle: str | Path | None = None,
    test: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """Choose the post-processing of the model trained in ``bundle_root`` on its validation fold and write it to
    ``bundle_root/models/postprocessing.json``; returns what the file holds.

    Args:
        bundle_root: the trained bundle's root (``models/model.pt``).
        dataset_dir: its prepared dataset (or datalist ``.json``).
        fold: the validation fold the model was trained without.
        bundle: the bundle whose configs to use (default: ``bundle_root`` itself).
        test: also evaluate the test split without and with the plan (``test_dice`` in the file).
        overrides: the bundle keys the model was trained with that change its network or inputs (``features``,
            ``roi_size``, …).
    """
    bundle_root, dataset_dir = Path(bundle_root).resolve(), Path(dataset_dir).resolve()
    bundle_dir = find_bundle(bundle or bundle_root)
    plan_file = bundle_root / "models" / POSTPROCESSING_FILE
    plan_file.unlink(missing_ok=True)  # chosen from the network's own predictions
    cases = validation_predictions(bundle_dir, bundle_root, dataset_dir, fold, overrides)
    found = sorted({int(v) for _, truth in cases for v in truth.unique().tolist()} - {0})
    steps, trials = greedy_plan(cases, found)
    chosen = {
        "steps": steps,
        "fold": fold,
        "validation_cases": len(cases),
        "validation_dice": {
            str(label): {"none": class_dice(cases, label), "chosen": class_dice(_apply_plan(cases, steps), label)}
            for label in found
        },
        "trials": trials,
    }
    if test:
        with tempfile.TemporaryDirectory() as scratch:
            none = _test_dice(bundle_dir, bundle_root, dataset_dir, Path(scratch) / "none", overrides)
            _write(plan_file, chosen)
            chosen["test_dice"] = {
                "none": none,
                "chosen": _test_dice(bundle_dir, bundle_root, dataset_dir, Path(scratch) / "chosen", overrides),
            }
    _write(plan_file, chosen)
    logger.info("post-processing for %s: %s", bundle_root, steps or "none improves the validation Dice")
    return chosen


def _write(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
