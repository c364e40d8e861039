"""Bundle configs generated from layers: the shared template (``bundle_layers/template.json``), the paper recipes a
bundle extends (``bundle_layers/recipes/<name>.json``) and the bundle's own ``bundles/<bundle>/bundle.json``.

Every layer is a JSON object of sections: ``train``, ``evaluate``, ``ensemble_evaluate``, ``multi_gpu_train``,
``inference``, ``ensemble_inference`` and ``metadata`` become ``configs/<section>.json``; ``common`` (recipes and
bundles only) goes into both ``train`` and ``inference``. A section holds MONAI config ids and values, merged over the
layers before it with MONAI's own semantics (:func:`monai.bundle.utils.merge_kv`): ``"a#b": v`` sets ``b`` inside
``a``, ``"+a": [...]`` extends a list (or updates a dict), any other key replaces. ``evaluate``, ``ensemble_evaluate``
and ``multi_gpu_train`` are override files, applied by MONAI on top of ``train.json`` (``ensemble_evaluate`` after
``evaluate``), and ``ensemble_inference`` on top of ``inference.json``, so their ids stay as written. A bundle (or a
recipe) names the recipes it builds on in ``"extends"``; they are merged first, in that order.

Generation also
- keeps the template's key order and puts a key that a layer adds next to the key before it in that layer (see
  :func:`_ordered`);
- drops comment keys (starting with ``//``);
- fills ``"@name"`` values of ``metadata`` with the value of ``name`` in the generated ``train.json`` (channels,
  ROI size);
- replaces a top-level ``"<settings>"`` value of ``train`` by ``{"name": "@name", ...}`` for every plain setting of
  the generated ``train.json`` (a number, string, boolean, null or list of them, not an expression, reference or
  macro), which the training state records (see :func:`_settings`);
- sorts the metadata ``changelog`` by version, newest first;
- fails when a ``"<required>"`` value of the template is left unset.

The generated configs are ordinary, self-contained MONAI bundle configs: what ``python -m monai.bundle``, MONAI Label
and the Model Zoo read. ``tests/zoo`` checks that the committed ones are the generated ones.
"""

from __future__ import annotations

import json
import re
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monai.bundle import ConfigParser
from monai.bundle.utils import merge_kv

from custom_networks.zoo.catalog import bundles_root, layers_root

__all__ = ["REQUIRED", "SETTINGS", "BundleSource", "format_json", "generate_configs", "write_configs"]

REQUIRED = "<required>"
SETTINGS = "<settings>"  # becomes the references to every plain setting of train.json
CONFIGS = (
    "train",
    "paper_train",
    "evaluate",
    "ensemble_evaluate",
    "multi_gpu_train",
    "inference",
    "paper_inference",
    "ensemble_inference",
    "metadata",
)
# applied by MONAI on top of train.json (paper_train: a paper's protocol where the bundle's default differs, before
# evaluate.json; ensemble_evaluate: on top of train.json and evaluate.json; paper_inference and ensemble_inference: of
# inference.json)
OVERRIDE_CONFIGS = (
    "paper_train",
    "evaluate",
    "ensemble_evaluate",
    "multi_gpu_train",
    "paper_inference",
    "ensemble_inference",
)
COMMON_CONFIGS = ("train", "inference")  # what a layer's "common" section goes into
LINE_WIDTH = 120


@dataclass(frozen=True)
class BundleSource:
    """The layers of one bundle, template first.

    Args:
        name: the bundle's name.
        layers: ``(path, content)`` of the template, the recipes in ``extends`` order (a recipe's own ``extends``
            before it, each recipe once), and ``bundle.json``.
    """

    name: str
    layers: tuple[tuple[Path, dict[str, Any]], ...]

    @classmethod
    def read(cls, bundle_dir: str | Path, layers: str | Path | None = None) -> BundleSource:
        """The layers of the bundle in ``bundle_dir`` (its ``bundle.json``), with the template and recipes in
        ``layers`` (default: the repository's ``bundle_layers/``).

        Raises:
            FileNotFoundError: a missing ``bundle.json``, template or recipe.
            ValueError: a layer that is not a JSON object of known sections.
        """
        bundle_dir = Path(bundle_dir)
        root = layers_root() if layers is None else Path(layers)
        own = _with_recipes(bundle_dir / "bundle.json", root / "recipes", [])
        return cls(bundle_dir.name, ((root / "template.json", _read_layer(root / "template.json")), *own))


def _with_recipes(path: Path, recipes: Path, seen: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """The layer in ``path`` after the recipes it extends (each before what extends it, each once)."""
    layer = _read_layer(path)
    layers = []
    for name in layer.pop("extends", []):
        recipe = recipes / f"{name}.json"
        if recipe not in seen:
            seen.append(recipe)
            layers += _with_recipes(recipe, recipes, seen)
    return [*layers, (path, layer)]


def _read_layer(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such layer file.")
    layer = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(layer, dict):
        raise ValueError(f"{path}: a layer is a JSON object of sections.")
    layer = _without_comments(layer)
    unknown = sorted(set(layer) - {*CONFIGS, "common", "extends"})
    if unknown:
        raise ValueError(f"{path}: unknown sections {unknown}; sections are {[*CONFIGS, 'common']} and extends.")
    return layer


def _without_comments(value: Any) -> Any:
    """``value`` without the keys starting with ``//`` (comments), at any depth."""
    if isinstance(value, dict):
        return {k: _without_comments(v) for k, v in value.items() if not k.startswith("//")}
    if isinstance(value, list):
        return [_without_comments(v) for v in value]
    return value


def _top_key(config_id: str) -> str:
    """The top-level key an id sets: ``"train#trainer"`` → ``"train"``, ``"+imports"`` → ``"imports"``."""
    return config_id.removeprefix("+").split("#")[0]


def _is_component(value: Any) -> bool:
    return isinstance(value, dict)


def _ordered(config: dict[str, Any], sections: list[list[str]]) -> list[str]:
    """The keys of ``config`` in the first section's (the template's) order, each key a later section adds placed after
    the key before it in that section if both are settings or both components (dicts), else settings before
    ``network_def`` and components before ``scale_intensity`` (the ends of those blocks in the template), or last."""
    order = list(dict.fromkeys(sections[0]))
    slots = {False: "network_def", True: "scale_intensity"}
    for section in sections[1:]:
        previous = None
        for key in section:
            if key not in order:
                component = _is_component(config.get(key))
                if previous is not None and _is_component(config.get(previous)) == component:
                    order.insert(order.index(previous) + 1, key)
                elif slots[component] in order:
                    order.insert(order.index(slots[component]), key)
                else:
                    order.append(key)
            previous = key
    return [key for key in order if key in config] + [key for key in config if key not in order]


def _merge(sections: list[dict[str, Any]], override: bool) -> dict[str, Any]:
    """The sections merged in order with MONAI's semantics; ``override``: ids stay flat (an override file)."""
    merged: Any = {} if override else ConfigParser(config={})
    for section in sections:
        for config_id, value in section.items():
            if override or config_id.startswith("+"):
                merge_kv(merged, config_id, deepcopy(value))
            else:
                merged.set(deepcopy(value), config_id)
    config = merged if override else merged.get()
    order = _ordered(config, [[k.removeprefix("+") if override else _top_key(k) for k in s] for s in sections])
    return {key: config[key] for key in order}


def _required(value: Any, path: str = "") -> list[str]:
    """Ids of ``value`` that are still ``"<required>"``."""
    if value == REQUIRED:
        return [path]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [found for key, item in items for found in _required(item, f"{path}#{key}" if path else str(key))]


def _fill_references(metadata: Any, train: dict[str, Any]) -> Any:
    """``"@name"`` strings of ``metadata`` replaced by ``train[name]`` (followed through ``"@other"`` values).

    Raises:
        KeyError: ``train.json`` has no key ``name``.
    """
    if isinstance(metadata, dict):
        return {k: _fill_references(v, train) for k, v in metadata.items()}
    if isinstance(metadata, list):
        return [_fill_references(v, train) for v in metadata]
    while isinstance(metadata, str) and metadata.startswith("@"):
        if metadata[1:] not in train:
            raise KeyError(f"metadata refers to {metadata}, which train.json does not define.")
        metadata = train[metadata[1:]]
    return metadata


def _is_plain(value: Any) -> bool:
    """A setting's value, not a component, expression, reference or macro: a number, a string, a boolean, null or a
    list of them."""
    if isinstance(value, list):
        return all(_is_plain(item) for item in value)
    if isinstance(value, str):
        return not value.startswith(("$", "@", "%")) and value != SETTINGS
    return value is None or isinstance(value, bool | int | float)


def _settings(train: dict[str, Any]) -> dict[str, Any]:
    """``train`` with its top-level ``"<settings>"`` values replaced by references to every plain setting: resolved
    when the bundle runs, they are the run's settings, command-line overrides included."""
    references = {key: f"@{key}" for key, value in train.items() if _is_plain(value)}
    return {key: references if value == SETTINGS else value for key, value in train.items()}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def generate_configs(source: BundleSource) -> dict[str, dict[str, Any]]:
    """The bundle's configs, ``{"train": {...}, ..., "metadata": {...}}``, from its layers.

    Raises:
        ValueError: a ``"<required>"`` value left unset, naming the bundle, the config and the id.
        KeyError: a metadata ``"@name"`` that ``train.json`` does not define.
    """
    configs = {}
    for name in CONFIGS:
        sections = [
            layer[section]
            for _, layer in source.layers
            for section in ("common", name)
            if section in layer and (section == name or name in COMMON_CONFIGS)
        ]
        if sections:  # a config no layer has is not written
            configs[name] = _merge(sections, override=name in OVERRIDE_CONFIGS)
    for name, config in configs.items():
        if missing := _required(config):
            raise ValueError(f"bundle {source.name}: {name}.json: {missing} must be set by a recipe or bundle.json.")
    configs["train"] = _settings(configs["train"])
    metadata = _fill_references(configs["metadata"], configs["train"])
    changelog = sorted(metadata["changelog"].items(), key=lambda item: _version_key(item[0]), reverse=True)
    metadata["changelog"] = dict(changelog)
    configs["metadata"] = metadata
    return configs


def format_json(value: Any, indent: int = 0, prefix: int = 0) -> str:
    """JSON with 4-space indents where a container that fits on its line (``prefix`` characters before it) and holds
    no container of containers is written on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    nested = isinstance(value, dict | list) and any(
        isinstance(item, dict | list) and any(isinstance(inner, dict | list) for inner in _children(item))
        for item in _children(value)
    )
    if not isinstance(value, dict | list) or (not nested and indent + prefix + len(flat) <= LINE_WIDTH):
        return flat
    pad = " " * (indent + 4)
    if isinstance(value, list):
        lines = [pad + format_json(item, indent + 4) for item in value]
        return "[\n" + ",\n".join(lines) + "\n" + " " * indent + "]"
    lines = []
    for key, item in value.items():
        head = f"{json.dumps(key, ensure_ascii=False)}: "
        lines.append(pad + head + format_json(item, indent + 4, len(head)))
    return "{\n" + ",\n".join(lines) + "\n" + " " * indent + "}"


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def write_configs(
    bundles: list[str] | None = None, root: str | Path | None = None, check: bool = False
) -> dict[str, list[str]]:
    """Generate the configs of ``bundles`` (default: all) in ``root`` (default: the installed bundles) and write them to
    ``<bundle>/configs/<name>.json``; with ``check``, write nothing and only compare.

    Returns:
        ``{bundle: [config files whose content differs from the generated one]}`` for the bundles with differences
        (with ``check``) or that were rewritten.
    """
    root = bundles_root() if root is None else Path(root)
    changed: dict[str, list[str]] = {}
    for name in bundles or sorted(path.parent.name for path in root.glob("*/bundle.json")):
        configs = generate_configs(BundleSource.read(root / name))
        for config, content in configs.items():
            path = root / name / "configs" / f"{config}.json"
            text = format_json(content) + "\n"
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                changed.setdefault(name, []).append(path.name)
                if not check:
                    path.write_text(text, encoding="utf-8")
    return changed
