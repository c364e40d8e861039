"""Train and measure a bundle on the real data in ../shared/data with its stated CPU protocol.

    python scripts/real_data.py <bundle> [--data_root ../shared/data] [--output_dir real_data/<bundle>]
                                [--compare True] [--publish True]

Prepares the bundle's dataset (or its stand-in) from the publisher's layout, trains the bundle (fold 0 validates),
evaluates it on the test split (and on an external test set where its protocol has one), writes ``results.json`` and
``results.md`` and prints the latter; ``--compare True`` also cross-validates the bundle's network against U-Net with
the same settings; ``--publish True`` writes the results into the bundle's ``docs/README.md`` and the
``eval_metrics`` of its metadata, and the bundle's row into the results table of this repository's README. The
protocols and what each bundle's data is: ``custom_networks.experiments.real_data``.
"""

from pathlib import Path

from custom_networks.cli import run_script


def main(
    bundle: str,
    data_root: str = "../shared/data",
    output_dir: str | None = None,
    compare: bool = False,
    publish: bool = False,
) -> None:
    """Run ``bundle``'s real-data protocol and print its results (arguments as ``real_data``; ``publish``: write
    them into the bundle's README and metadata, and the table of every bundle's results into the README)."""
    from custom_networks.experiments.real_data import publish_summary, real_data, results_markdown  # not for --help
    from custom_networks.zoo import find_bundle

    print(results_markdown(real_data(bundle, data_root, output_dir, compare, publish=publish)), end="")
    if publish:
        publish_summary(find_bundle(bundle).parent, Path(__file__).resolve().parents[1] / "README.md")


if __name__ == "__main__":
    run_script(main, __doc__)
