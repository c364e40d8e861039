"""A bundle that leaves the repository: the Model Zoo's self-contained form, with the code it needs vendored.

    python -m custom_networks.export <bundle> <out_dir> [--weights model.pt] [--weights_url URL] [--zip]
    custom-networks export <bundle> <out_dir> [...]         (the same; also python scripts/export_bundle.py)

The export is ``<out_dir>/<bundle>/``: the bundle's ``configs/``, ``docs/`` and ``LICENSE``; the runtime part of
``custom_networks`` copied to ``scripts/custom_networks/`` (the Zoo's ``scripts/`` package of a bundle's own code),
with its imports and the configs' ``_target_`` and ``import`` lines pointing there; ``models/model.pt`` and
``large_files.yml`` (its path, size and SHA-256) when weights are given; ``scripts/prepare_data.py``, the data
preparation; and ``metadata.json`` whose
``required_packages_version`` lists the packages of the public index that the vendored code and the configs import,
at the versions installed here (torch, MONAI and numpy have their own fields). Run it as Zoo bundles are run, from its
folder: ``python -m monai.bundle run --config_file configs/train.json --dataset_dir DATA``; MONAI Label puts the
bundle's folder on ``sys.path`` itself.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shutil
import sys
from importlib.metadata import packages_distributions, version
from pathlib import Path

from custom_networks.errors import BadValueError, MissingFileError
from custom_networks.zoo import find_bundle

__all__ = ["RUNTIME_MODULES", "VENDORED_PACKAGE", "export_bundle", "required_packages"]

# what the bundles' configs use of custom_networks (the command line, experiments, benchmark and zoo stay behind)
RUNTIME_MODULES = (
    "__init__.py",
    "allocator.py",
    "blocks",
    "data",
    "engines",
    "errors.py",
    "handlers",
    "inferers",
    "losses",
    "metrics",
    "nets",
    "overrides.py",
    "transforms",
)
VENDORED_PACKAGE = "scripts.custom_networks"  # where an exported bundle imports the vendored code from
OWN_FIELDS = {"torch", "monai", "numpy"}  # versions the metadata holds in fields of their own
BUNDLE_FILES = ("configs", "docs", "LICENSE")
# the exported bundle's data preparation, as the error for a missing dataset names it (the repository's script)
PREPARE_DATA = '''"""Turn a dataset as downloaded into what this bundle reads (DATA_DIR/datalist.json and its files).

    python scripts/prepare_data.py <dataset> --src RAW_DIR --dst DATA_DIR    (from the bundle's folder)
    python scripts/prepare_data.py datasets                                   (the layouts it reads)
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bundle's folder, holding the scripts package
    from scripts.custom_networks.data.cli import main

    main()
'''
_IMPORT = re.compile(r"^(\s*)(from|import) custom_networks\b", flags=re.M)


def _package_root() -> Path:
    return Path(__file__).resolve().parent


def _vendor(target: Path) -> None:
    """Copy :data:`RUNTIME_MODULES` to ``target/scripts/custom_networks`` with their imports pointing there."""
    package = target / "scripts" / "custom_networks"
    package.mkdir(parents=True)
    (target / "scripts" / "__init__.py").write_text(
        '"""Code of this bundle: custom_networks, vendored by custom_networks.zoo.export."""\n', encoding="utf-8"
    )
    for name in RUNTIME_MODULES:
        source = _package_root() / name
        if source.is_dir():
            shutil.copytree(source, package / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, package / name)
    (target / "scripts" / "prepare_data.py").write_text(PREPARE_DATA, encoding="utf-8")
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(_IMPORT.sub(rf"\1\2 {VENDORED_PACKAGE}", text), encoding="utf-8")


def _point_configs_to_vendored_code(configs: Path) -> None:
    """The configs import ``custom_networks`` from ``scripts`` and instantiate its classes from there."""
    for path in configs.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        text = text.replace('"$import custom_networks"', f'"$import {VENDORED_PACKAGE} as custom_networks"')
        text = text.replace('"_target_": "custom_networks.', f'"_target_": "{VENDORED_PACKAGE}.')
        path.write_text(text, encoding="utf-8")


def _imported_modules(folder: Path) -> set[str]:
    """The top-level names of every module imported by the Python files under ``folder``."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def _used_by_configs(configs: Path) -> set[str]:
    """What the configs use through MONAI rather than by import: TensorBoard (the TensorBoardStatsHandler of every
    bundle) and, for a 3-D bundle, ITK (MONAI's ITKReader of NRRD, MetaImage and DICOM volumes)."""
    train = json.loads((configs / "train.json").read_text(encoding="utf-8"))
    return {"tensorboard"} | ({"itk"} if train.get("spatial_dims") == 3 else set())


def required_packages(code: Path, configs: Path) -> dict[str, str]:
    """The distributions of the public index, with their installed versions, that the Python files under ``code``
    import and the configs in ``configs`` use through MONAI, torch, MONAI and numpy excepted."""
    owners = packages_distributions()
    modules = _imported_modules(code) - set(sys.stdlib_module_names)
    names = {dist.lower() for module in modules for dist in owners.get(module, [])} | _used_by_configs(configs)
    names -= OWN_FIELDS | {"custom-networks"}
    return {name: version(name) for name in sorted(names)}


def _write_metadata(target: Path) -> None:
    path = target / "configs" / "metadata.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["required_packages_version"] = required_packages(target / "scripts", target / "configs")
    path.write_text(json.dumps(metadata, indent=4) + "\n", encoding="utf-8")


def _write_weights(target: Path, weights: Path, url: str) -> None:
    models = target / "models"
    models.mkdir()
    shutil.copy2(weights, models / "model.pt")
    digest = hashlib.sha256((models / "model.pt").read_bytes()).hexdigest()
    (target / "large_files.yml").write_text(
        "# The files of this bundle too large for a repository: upload each and put its address in url.\n"
        "large_files:\n"
        '  - path: "models/model.pt"\n'
        f'    url: "{url}"\n'
        f'    hash_val: "{digest}"\n'
        '    hash_type: "sha256"\n'
        f"    # {(models / 'model.pt').stat().st_size} bytes\n",
        encoding="utf-8",
    )


def export_bundle(
    bundle: str | Path,
    out_dir: str | Path,
    weights: str | Path | None = None,
    weights_url: str = "",
    zip: bool = False,  # noqa: A002 - the option's name on the command line
) -> Path:
    """Write the bundle in the Model Zoo's self-contained form to ``out_dir/<bundle name>`` (returned; see the module
    docstring), nothing of it when it fails.

    Args:
        bundle: a bundle name or folder.
        out_dir: the folder to write the exported bundle into.
        weights: a trained ``model.pt`` to ship as ``models/model.pt``.
        weights_url: where ``models/model.pt`` will be downloadable from (``large_files.yml``).
        zip: also write ``out_dir/<bundle name>_v<version>.zip``, the Zoo's release archive.

    Raises:
        BadValueError: ``out_dir/<bundle name>`` exists already.
        MissingFileError: no such bundle or weights file.
    """
    source = find_bundle(bundle)
    target = Path(out_dir).resolve() / source.name
    if target.exists():
        raise BadValueError(f"{target}: exists already; remove it or export to another folder.")
    if weights is not None and not Path(weights).is_file():
        raise MissingFileError(f"{weights}: no such weights file.")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in BUNDLE_FILES:
        (shutil.copytree if (source / name).is_dir() else shutil.copy2)(source / name, partial / name)
    _vendor(partial)
    _point_configs_to_vendored_code(partial / "configs")
    _write_metadata(partial)
    if weights is not None:
        _write_weights(partial, Path(weights), weights_url)
    partial.rename(target)
    if zip:
        metadata = json.loads((target / "configs" / "metadata.json").read_text(encoding="utf-8"))
        archive = target.parent / f"{target.name}_v{metadata['version']}"
        shutil.make_archive(str(archive), "zip", target.parent, target.name)
    return target


if __name__ == "__main__":
    from custom_networks.cli import run_command

    run_command("export", sys.argv[1:])
