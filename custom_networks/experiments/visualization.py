"""Figures of chosen test cases from a comparison's runs, networks side by side: the prediction over the image (true
positives green, false positives red, false negatives blue: :func:`custom_networks.transforms.overlay_errors`) and
the decoder saliency map (:class:`~custom_networks.experiments.saliency.DecoderSaliency`) blended on the image.

    python scripts/visualize.py --report_dir cross_validation/mildnet_dsb2018_nuclei [--cases a.png,b.png]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from monai.transforms import ScaleIntensity
from monai.visualize import blend_images

from custom_networks.data import datalist_split
from custom_networks.errors import BadValueError
from custom_networks.experiments.cross_validation import as_list
from custom_networks.experiments.runs import Run
from custom_networks.experiments.saliency import DecoderSaliency
from custom_networks.experiments.statistics import read_results
from custom_networks.transforms import overlay_errors
from custom_networks.transforms.overlay import class_indices

__all__ = ["RunModel", "visualize"]

logger = logging.getLogger(__name__)


def _display(array: torch.Tensor | np.ndarray) -> np.ndarray:
    """A MONAI-loaded 2-D array ``(C, x, y)`` (its readers put the width first) as ``(y, x, C)``, or ``(y, x)`` for
    one channel, for ``imshow``."""
    shown = np.transpose(np.asarray(array), (2, 1, 0))
    return shown[..., 0] if shown.shape[-1] == 1 else shown


class RunModel:
    """The trained network of a run with the bundle's test-time pipeline (``validate#preprocessing``,
    ``validate#inferer``, ``validate#postprocessing`` of its ``train.json`` with the run's settings), in this
    process.

    Args:
        run: an evaluated run; its best model ``models/model.pt`` is loaded.
    """

    def __init__(self, run: Run):
        parser = run.parser()
        self.device = parser.get_parsed_content("device")
        self.network = parser.get_parsed_content("network_def").to(self.device)
        state = torch.load(run.root / "models" / "model.pt", map_location=self.device, weights_only=True)
        self.network.load_state_dict(state.get("model", state))
        self.network.eval()
        self.out_channels = parser.get_parsed_content("network_def#out_channels")
        self.preprocessing = parser.get_parsed_content("validate#preprocessing")
        self.inferer = parser.get_parsed_content("validate#inferer")
        self.postprocessing = parser.get_parsed_content("validate#postprocessing")
        self.saliency = DecoderSaliency(self.network)

    def predict(self, item: dict[str, Any]) -> dict[str, Any]:
        """``item`` (``image``, ``label`` paths) preprocessed, with ``pred`` after the bundle's postprocessing."""
        data = self.preprocessing(dict(item))
        with torch.no_grad():
            data["pred"] = self.inferer(data["image"][None].to(self.device), self.network)[0].cpu()
        return self.postprocessing(data)


def _figure(case: str, columns: Sequence[tuple[str, dict[str, Any], torch.Tensor]], path: Path) -> None:
    """Two rows per case: image and each network's overlay; ground truth and each network's saliency map."""
    image = columns[0][1]["image"]
    background = ScaleIntensity()(image[:3] if image.shape[0] >= 3 else image[:1])
    figure = Figure(figsize=(2.6 * (len(columns) + 1), 5.6), layout="constrained")
    axes = figure.subplots(2, len(columns) + 1, squeeze=False)
    axes[0, 0].imshow(_display(background), cmap="gray")
    axes[0, 0].set_title("image")
    axes[1, 0].imshow(_display(class_indices(columns[0][1]["label"])[None]), cmap="gray", interpolation="nearest")
    axes[1, 0].set_title("ground truth")
    for column, (title, data, saliency) in enumerate(columns, start=1):
        axes[0, column].imshow(_display(overlay_errors(data["image"], data["pred"], data["label"])))
        axes[0, column].set_title(title)
        blended = blend_images(background, saliency[None], alpha=0.5, cmap="jet", transparent_background=False)
        axes[1, column].imshow(_display(blended))
        axes[1, column].set_title("saliency (decoder mean)")
    for ax in axes.flat:
        ax.set_axis_off()
    figure.suptitle(f"{case}\ntrue positives green, false positives red, false negatives blue", fontsize="small")
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=120)


def visualize(
    report_dir: str | Path,
    cases: str | Sequence[str] | None = None,
    networks: str | Sequence[str] | None = None,
    fold: int | None = None,
    num_cases: int = 3,
    class_idx: int | None = None,
    output_dir: str | Path | None = None,
) -> list[Path]:
    """One PNG per test case, ``<output_dir>/<case>.png``, from the runs of a finished comparison
    (:func:`~custom_networks.experiments.cross_validate`): the image, then per network its prediction over the image
    (titled with the case's Dice) and its saliency map. Returns the files written. 2-D bundles only.

    Args:
        report_dir: the comparison's report folder (``results.csv``, ``runs/``).
        cases: test image file names (or their names without extension), ``"a,b"`` or a list; default the first
            ``num_cases`` of the test split.
        networks: short names, ``"a,b"`` or a list; default every network of the report.
        fold: validation fold of the runs shown; default the lowest in the report.
        num_cases: number of cases when ``cases`` is not given.
        class_idx: output channel of the saliency maps; default 0 for one output channel, else 1 (the first
            foreground class).
        output_dir: default ``<report_dir>/figures``.

    Raises:
        ValueError: unknown case or network, or a 3-D bundle.
    """
    report_dir = Path(report_dir)
    rows = read_results(report_dir / "results.csv")
    compared = list(dict.fromkeys(r["network"] for r in rows))
    networks = compared if networks is None else as_list(networks)
    if not set(networks) <= set(compared):
        raise BadValueError(f"the report compares {compared}, not {sorted(set(networks) - set(compared))}.")
    fold = min(r["fold"] for r in rows) if fold is None else int(fold)
    runs = [Run.load(report_dir / "runs" / network / f"fold{fold}") for network in networks]
    items = {Path(item["image"]).name: item for item in datalist_split(runs[0].dataset_dir, "testing")}
    stems = {name.split(".")[0]: name for name in items}
    names = list(items)[:num_cases] if cases is None else [stems.get(c, c) for c in as_list(cases)]
    unknown = [name for name in names if name not in items]
    if unknown:
        raise BadValueError(f"no test cases {unknown}; the test split has {sorted(items)}.")
    dice = {(r["network"], r["case"]): r.get("mean_dice", float("nan")) for r in rows if r["fold"] == fold}
    output_dir = Path(output_dir or report_dir / "figures")
    output_dir.mkdir(parents=True, exist_ok=True)
    models = {run.network: RunModel(run) for run in runs}
    written = []
    for name in names:
        columns = []
        for network, model in models.items():
            data = model.predict(items[name])
            if data["image"].dim() != 3:
                raise BadValueError(f"figures are 2-D; {name} has shape {tuple(data['image'].shape)}.")
            channel = (0 if model.out_channels == 1 else 1) if class_idx is None else class_idx
            saliency = model.saliency(data["image"], channel)
            columns.append(
                (f"{network} fold {fold}\nDice {dice.get((network, name), float('nan')):.3f}", data, saliency)
            )
        path = output_dir / f"{name.split('.')[0]}.png"
        _figure(name, columns, path)
        logger.info(f"wrote {path}")
        written.append(path)
    return written
