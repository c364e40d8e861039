"""Experiments across networks: cross-validated comparisons through a bundle (per-case results, summary with paired
t-tests, box plots, training curves) and figures of predictions and decoder saliency maps.

    from custom_networks.experiments import cross_validate, visualize
    report = cross_validate("mildnet_dsb2018_nuclei", "/data/dsb2018", networks="mildnet,unet", epochs=30)
    visualize(report, cases="a.png,b.png")

Command lines: ``scripts/cross_validate.py`` and ``scripts/visualize.py``. Not imported by ``custom_networks`` itself
(it pulls in matplotlib, scipy and tensorboard, which bundles do not need).
"""

from custom_networks.experiments.cross_validation import cross_validate, plan_runs
from custom_networks.experiments.networks import network_def
from custom_networks.experiments.runs import Run, RunError
from custom_networks.experiments.saliency import DecoderSaliency, decoder_layers
from custom_networks.experiments.statistics import SUMMARY_METRICS, read_results, summarize
from custom_networks.experiments.training_curves import epoch_curves
from custom_networks.experiments.visualization import visualize

__all__ = [
    "SUMMARY_METRICS",
    "DecoderSaliency",
    "Run",
    "RunError",
    "cross_validate",
    "decoder_layers",
    "epoch_curves",
    "network_def",
    "plan_runs",
    "read_results",
    "summarize",
    "visualize",
]
